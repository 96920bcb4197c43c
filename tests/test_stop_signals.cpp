// signals/stop_signals.h, the one way training and the servers stop on a
// signal: the flag and the first signal's line, what a second signal does,
// the waiter's call from its own thread and the default actions given back.
// Signals that may end the process are raised in a child process.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>

#include "signals/stop_signals.h"

namespace {

using tg::signals::SecondSignal;

const char* announce(int signal) { return signal == SIGTERM ? "stop: SIGTERM\n" : "stop: another\n"; }

struct ChildRun {
  int status = -1;  // the exit status, or 128 + the signal that ended it
  std::string err;  // what it wrote to stderr
};

// Runs `body` in a child process whose stderr goes to a file.
ChildRun in_child(const std::function<void()>& body) {
  char path[] = "/tmp/tapegrad_stop_signals_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fd, STDERR_FILENO);
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fd);
  std::ifstream in(path);
  ChildRun run{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
               std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())};
  std::remove(path);
  return run;
}

}  // namespace

TEST_CASE("stop signals as training uses them: the first sets the flag and says so; a second exits, 128 + signal") {
  const ChildRun once = in_child([] {
    tg::signals::catch_stop_signals({.signals = {SIGINT, SIGTERM}, .second = SecondSignal::exits, .announce = announce});
    if (tg::signals::stop_requested().load()) ::_exit(4);
    std::raise(SIGTERM);
    ::_exit(tg::signals::stop_requested().load() ? 3 : 4);
  });
  CHECK(once.status == 3);
  CHECK(once.err == "stop: SIGTERM\n");

  const ChildRun twice = in_child([] {
    tg::signals::catch_stop_signals({.signals = {SIGINT, SIGTERM}, .second = SecondSignal::exits, .announce = announce});
    std::raise(SIGINT);
    std::raise(SIGTERM);
    ::_exit(5);  // not reached
  });
  CHECK(twice.status == 128 + SIGTERM);
  CHECK(twice.err == "stop: another\n");  // the first one's line only
}

TEST_CASE("stop signals: a second one ignored leaves the first one's stop going, silently without an announcement") {
  const ChildRun run = in_child([] {
    tg::signals::catch_stop_signals({.signals = {SIGTERM, SIGHUP}, .second = SecondSignal::ignored});
    std::raise(SIGHUP);
    std::raise(SIGTERM);
    ::_exit(tg::signals::stop_requested().load() ? 6 : 7);
  });
  CHECK(run.status == 6);
  CHECK(run.err.empty());
}

TEST_CASE("stop signals as servers use them: the waiter calls once, from its own thread, naming the first; the "
          "default actions come back") {
  std::atomic<int> calls{0};
  std::string name;
  std::thread::id caller;
  {
    const tg::signals::StopSignalWaiter waiter({.signals = {SIGTERM, SIGINT, SIGHUP}}, [&](const char* signal) {
      name = signal;
      caller = std::this_thread::get_id();
      ++calls;
    });
    CHECK_FALSE(tg::signals::stop_requested().load());
    std::raise(SIGHUP);
    std::raise(SIGTERM);
    for (int i = 0; i < 200 && calls.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(120));  // two more looks: no second call
  }
  CHECK(calls.load() == 1);
  CHECK(name == "SIGHUP");
  CHECK(caller != std::this_thread::get_id());
  for (const int signal : {SIGTERM, SIGINT, SIGHUP}) {
    struct sigaction now {};
    ::sigaction(signal, nullptr, &now);
    const bool default_action = now.sa_handler == SIG_DFL;
    CHECK_MESSAGE(default_action, signal);
  }

  // A new waiter starts clear, and one gone before any signal never calls.
  {
    const tg::signals::StopSignalWaiter quiet({.signals = {SIGTERM}}, [&](const char*) { ++calls; });
    CHECK_FALSE(tg::signals::stop_requested().load());
  }
  CHECK(calls.load() == 1);
}
