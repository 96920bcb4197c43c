#include "apps/translate/step_profile.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include "core/tensor/storage.h"

namespace tg::translate {

namespace {
double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

// The process's peak resident set size in bytes (Linux reports KiB).
double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}
}  // namespace

void StepProfile::begin_step() {
  if (!enabled_) return;
  if (!profiler_ && steps_seen_ >= warmup_) profiler_.emplace();  // starts profiling
  if (profiler_) profiler_->resume();
}

void StepProfile::end_step() {
  if (!enabled_) return;
  ++steps_seen_;
  if (!profiler_) return;
  profiler_->pause();
  ++profiled_;
}

std::vector<ProfileRow> StepProfile::rows() const { return profiler_ ? profiler_->report() : std::vector<ProfileRow>{}; }

std::string StepProfile::report() const {
  if (!enabled_) return "";
  if (!profiler_)
    return fmt::format("op profile: no step ran after the {} warm-up steps; nothing to show\n", warmup_);
  const HostMemoryStats memory = host_memory_stats();
  return fmt::format(
      "op profile: {} training steps after {} warm-up steps, {:.2f} s in steps\n{}"
      "host memory since the start: peak in use {:.1f} MiB; now in use {:.1f} MiB, cached for reuse {:.1f} MiB; "
      "process peak RSS {:.1f} MiB\n",
      profiled_, warmup_, profiler_->wall_seconds(), profiler_->format_table(), mib(memory.peak_in_use_bytes),
      mib(memory.in_use_bytes), mib(memory.cached_bytes), mib(peak_rss_bytes()));
}

}  // namespace tg::translate
