#include "serve/stop_signals.h"

#include <signal.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "serve/http_server.h"

namespace tg::serve {

namespace {
// SIGHUP too: a closed terminal or a supervisor's reload must not kill requests in flight.
constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGHUP};
// Set by the handler (a lock-free atomic store is async-signal-safe), read by the waiter.
std::atomic<int> received_signal = 0;
extern "C" void note_stop_signal(int signal) { received_signal.store(signal); }
}  // namespace

StopSignals::StopSignals(std::function<void(const char*)> on_signal) {
  received_signal = 0;
  struct sigaction action {};
  action.sa_handler = note_stop_signal;
  sigemptyset(&action.sa_mask);
  for (const int signal : kStopSignals) sigaction(signal, &action, nullptr);
  waiter_ = std::thread([this, on_signal = std::move(on_signal)] {
    while (!done_) {
      if (const int signal = received_signal.load(); signal != 0) {
        on_signal(signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "SIGHUP");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

StopSignals::~StopSignals() {
  done_ = true;
  waiter_.join();
  for (const int stop : kStopSignals) signal(stop, SIG_DFL);
}

std::string http_url(const std::string& host, int port) {
  return host.find(':') == std::string::npos ? fmt::format("http://{}:{}", host, port)
                                             : fmt::format("http://[{}]:{}", host, port);
}

void serve_until_signal(HttpServer& server, const std::function<std::string(int port)>& banner) {
  const int port = server.bind();
  const std::string& host = server.options().host;
  const bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  if (!loopback && server.options().api_key.empty())
    std::fprintf(stderr,
                 "warning: listening on %s without --api-key: anyone who can reach this address can use the model\n",
                 http_url(host, port).c_str());
  const StopSignals signals([&](const char* name) {
    std::fprintf(stderr, "%s: finishing the requests in flight, then stopping\n", name);
    server.stop();
  });
  std::printf("%s\n", banner(port).c_str());
  std::fflush(stdout);
  server.serve();
}

}  // namespace tg::serve
