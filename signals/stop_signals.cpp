#include "signals/stop_signals.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace tg::signals {

namespace {

// What the handler reads and writes: lock-free atomics of static storage,
// constant-initialised, so they exist before any handler is installed.
std::atomic<bool> requested{false};
std::atomic<int> first_signal{0};
std::atomic<int> signal_count{0};
std::atomic<SecondSignal> second_signal{SecondSignal::ignored};
std::atomic<const char* (*)(int)> announcement{nullptr};

extern "C" void on_stop_signal(int signal) {
  if (signal_count.fetch_add(1) >= 1) {
    if (second_signal.load() == SecondSignal::exits) _exit(128 + signal);
    return;
  }
  first_signal.store(signal);
  requested.store(true);
  const auto announce = announcement.load();
  if (const char* text = announce != nullptr ? announce(signal) : nullptr; text != nullptr)
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, text, std::strlen(text));
}

}  // namespace

void catch_stop_signals(const StopSignalOptions& options) {
  second_signal.store(options.second);
  announcement.store(options.announce);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  for (const int signal : options.signals) sigaction(signal, &action, nullptr);
}

const std::atomic<bool>& stop_requested() { return requested; }

void reset_stop_signals() {
  signal_count.store(0);
  first_signal.store(0);
  requested.store(false);
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

StopSignalWaiter::StopSignalWaiter(const StopSignalOptions& options, std::function<void(const char* name)> on_signal)
    : signals_(options.signals) {
  reset_stop_signals();
  catch_stop_signals(options);
  waiter_ = std::thread([this, on_signal = std::move(on_signal)] {
    while (!done_) {
      if (requested.load()) {
        on_signal(signal_name(first_signal.load()));
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

StopSignalWaiter::~StopSignalWaiter() {
  done_ = true;
  waiter_.join();
  for (const int signal : signals_) std::signal(signal, SIG_DFL);
}

}  // namespace tg::signals
