#include "train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace tg::train {

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

ProgressLine::ProgressLine(int64_t epoch, int64_t total_batches, bool terminal, int64_t every, std::string unit)
    : epoch_(epoch), total_(std::max<int64_t>(total_batches, 1)), every_(std::max<int64_t>(every, 1)),
      terminal_(terminal), unit_(std::move(unit)) {}

std::string ProgressLine::text(int64_t done, double loss, double tokens_per_s, double eta_s) const {
  constexpr int64_t width = 20;
  const int64_t filled = std::clamp<int64_t>(done * width / total_, 0, width);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width) bar += '>';
  bar.resize(static_cast<size_t>(width), ' ');
  const int digits = static_cast<int>(fmt::format("{}", total_).size());
  return fmt::format("epoch {}  [{}]  {:>{}}/{}  loss {:.4f}  {:.0f} {}/s  ETA {}", epoch_, bar, done, digits,
                     total_, loss, tokens_per_s, unit_, format_duration(eta_s));
}

std::string ProgressLine::update(int64_t done, double loss, double tokens_per_s, double eta_s) {
  const std::string line = text(done, loss, tokens_per_s, eta_s);
  if (terminal_) {
    // Pad with spaces so a shorter line wipes the end of the previous one.
    const size_t pad = last_width_ > line.size() ? last_width_ - line.size() : 0;
    last_width_ = line.size();
    open_ = true;
    return "\r" + line + std::string(pad, ' ');
  }
  if (done % every_ == 0 || done == total_) return line + "\n";
  return "";
}

std::string ProgressLine::finish() {
  if (!open_) return "";
  open_ = false;
  return "\n";
}

}  // namespace tg::train
