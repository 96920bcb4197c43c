#include "train/stop_signal.h"

#include <unistd.h>

#include <csignal>

namespace tg::train {

namespace {

// A handler reaches only objects with static storage: these are built before
// install_stop_signals installs it.
std::atomic<int>& signal_count() {
  static std::atomic<int> count{0};
  return count;
}

void say(const char* text, size_t length) { [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, text, length); }

extern "C" void on_stop_signal(int signal) {
  if (signal_count().fetch_add(1) >= 1) _exit(128 + signal);
  stop_flag().store(true);
  static const char interrupted[] = "\ninterrupted: stopping after this batch and saving (Ctrl-C again to quit at once)\n";
  static const char terminated[] =
      "\nterminated (SIGTERM): stopping after this batch and saving (a second SIGTERM quits at once)\n";
  if (signal == SIGTERM) say(terminated, sizeof(terminated) - 1);
  else say(interrupted, sizeof(interrupted) - 1);
}

}  // namespace

std::atomic<bool>& stop_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

void install_stop_signals() {
  stop_flag();
  signal_count();
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void reset_stop_signals() {
  signal_count().store(0);
  stop_flag().store(false);
}

}  // namespace tg::train
