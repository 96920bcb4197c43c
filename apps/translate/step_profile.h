#pragma once
// `translate train --profile`: a tg::Profiler over the training steps. The
// first `warmup` steps of the run are left out (the allocator's cache, the
// thread pool and OpenBLAS warm up there), and the profiler is paused between
// steps, so that validation, checkpoints and progress output stay out of the
// wall time the table's shares are taken of.
#include <cstdint>
#include <optional>
#include <vector>
#include <string>

#include "core/services/profiler.h"

namespace tg::translate {

class StepProfile {
 public:
  StepProfile(bool enabled, int64_t warmup) : enabled_(enabled), warmup_(warmup) {}

  void begin_step();
  void end_step();
  bool enabled() const { return enabled_; }
  int64_t profiled_steps() const { return profiled_; }
  std::vector<ProfileRow> rows() const;

  // The report: the op table, then the host allocator's and the process's
  // memory high-water marks.
  std::string report() const;

 private:
  bool enabled_;
  int64_t warmup_;
  int64_t steps_seen_ = 0;  // steps this run, warm-up included
  int64_t profiled_ = 0;
  std::optional<Profiler> profiler_;
};

}  // namespace tg::translate
