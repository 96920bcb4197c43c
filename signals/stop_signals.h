#pragma once
// Stopping a program cleanly on a signal, for everything that trains or
// serves. The handler only notes the signal (a lock-free atomic store is
// async-signal-safe) and, for the first, writes the caller's announcement;
// the program stops where that is safe: a training loop polls
// stop_requested() at each batch boundary (train/harness.h), a server stops
// from a thread of its own (StopSignalWaiter; serve/serve_until_signal.h).
//
//   tg::signals::catch_stop_signals({.signals = {SIGINT, SIGTERM}, .second = tg::signals::SecondSignal::exits});
//   while (!tg::signals::stop_requested().load()) step();
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace tg::signals {

// What a stop signal after the first does.
enum class SecondSignal {
  ignored,  // nothing: the first one's stop goes on (a server answering its requests in flight)
  exits,    // the process exits at once, status 128 + signal (Ctrl-C twice)
};

struct StopSignalOptions {
  std::vector<int> signals;  // SIGINT, SIGTERM, SIGHUP, ...
  SecondSignal second = SecondSignal::ignored;
  // The text the handler writes to stderr when the first signal comes, or
  // nullptr; it must return static text and be async-signal-safe.
  const char* (*announce)(int signal) = nullptr;
};

// Installs the handler for options.signals; again: the latest options hold.
void catch_stop_signals(const StopSignalOptions& options);

// Set by the first stop signal; never cleared by the handler.
const std::atomic<bool>& stop_requested();

// Clears the flag and the signal count (tests, or a program that trains twice).
void reset_stop_signals();

// "SIGTERM", "SIGINT", "SIGHUP"; "a signal" for another.
const char* signal_name(int signal);

// Catches options.signals (the flag cleared first) and calls on_signal(name)
// once, from a thread of its own, when the first comes: there, unlike in a
// handler, stopping a server is safe. The thread looks every 50 ms. The
// destructor stops it and gives the signals their default actions back. One
// at a time.
class StopSignalWaiter {
 public:
  StopSignalWaiter(const StopSignalOptions& options, std::function<void(const char* name)> on_signal);
  ~StopSignalWaiter();
  StopSignalWaiter(const StopSignalWaiter&) = delete;
  StopSignalWaiter& operator=(const StopSignalWaiter&) = delete;

 private:
  std::vector<int> signals_;
  std::atomic<bool> done_ = false;
  std::thread waiter_;
};

}  // namespace tg::signals
