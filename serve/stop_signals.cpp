#include "serve/stop_signals.h"

#include <signal.h>

#include <chrono>
#include <cstdio>

#include "serve/http_server.h"

namespace tg::serve {

namespace {
// Set by the handler (a lock-free atomic store is async-signal-safe), read by the waiter.
std::atomic<int> received_signal = 0;
extern "C" void note_stop_signal(int signal) { received_signal.store(signal); }
}  // namespace

StopSignals::StopSignals(std::function<void(const char*)> on_signal) {
  received_signal = 0;
  struct sigaction action {};
  action.sa_handler = note_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  waiter_ = std::thread([this, on_signal = std::move(on_signal)] {
    while (!done_) {
      if (const int signal = received_signal.load(); signal != 0) {
        on_signal(signal == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

StopSignals::~StopSignals() {
  done_ = true;
  waiter_.join();
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
}

void serve_until_signal(HttpServer& server, const std::function<std::string(int port)>& banner) {
  const int port = server.bind();
  const StopSignals signals([&](const char* name) {
    std::fprintf(stderr, "%s: finishing the requests in flight, then stopping\n", name);
    server.stop();
  });
  std::printf("%s\n", banner(port).c_str());
  std::fflush(stdout);
  server.serve();
}

}  // namespace tg::serve
