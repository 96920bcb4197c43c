#pragma once
// The training progress bar: one line per epoch, rewritten in place with "\r"
// when the output is a terminal, or printed as plain lines every `every`
// batches and at the end when it is not (a log file, a pipe, CI).
//
//   epoch 3  [=========>          ]  412/906  loss 3.1416  4518 tok/s  ETA 1:02
#include <cstdint>
#include <string>

namespace tg::train {

// Whether `fd` is a terminal (isatty).
bool is_terminal(int fd);

// "1:02", "1:02:03" for a number of seconds (negative or not finite: "?").
std::string format_duration(double seconds);

class ProgressLine {
 public:
  // unit: what the speed counts ("tok" for tokens, "frames").
  ProgressLine(int64_t epoch, int64_t total_batches, bool terminal, int64_t every = 50, std::string unit = "tok");

  // The text to write after batch `done` (1-based count of the epoch's batches
  // done), or "" when nothing is due. loss: the running mean so far;
  // tokens_per_s: units per second (target tokens by default); eta_s: seconds left in the epoch.
  std::string update(int64_t done, double loss, double tokens_per_s, double eta_s);
  // What ends the bar: "\n" on a terminal after an update, else "".
  std::string finish();

  // The bar's text without "\r" or "\n".
  std::string text(int64_t done, double loss, double tokens_per_s, double eta_s) const;

 private:
  int64_t epoch_, total_, every_;
  bool terminal_;
  std::string unit_;
  bool open_ = false;  // a "\r" line is on screen
  size_t last_width_ = 0;
};

}  // namespace tg::train
