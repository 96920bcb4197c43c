#pragma once
// SIGTERM, SIGINT and SIGHUP for a server: instead of dying mid-request, it calls
// on_signal once, from a thread of its own (where stopping the server is
// safe, unlike in a signal handler, which only notes the signal). The
// default actions come back when it is destroyed. One at a time.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace tg::serve {

class StopSignals {
 public:
  // on_signal(name): "SIGTERM", "SIGINT" or "SIGHUP".
  explicit StopSignals(std::function<void(const char*)> on_signal);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  std::atomic<bool> done_ = false;
  std::thread waiter_;
};

class HttpServer;

// The URL of host:port ("http://[::1]:8080" for an IPv6 address).
std::string http_url(const std::string& host, int port);

// A server's life as the programs run it: binds `server`, warns on stderr
// when it listens beyond loopback without an API key, prints the line
// banner(port) gives, answers requests until SIGTERM, SIGINT or SIGHUP (said on
// stderr), and returns once the requests in flight are answered.
void serve_until_signal(HttpServer& server, const std::function<std::string(int port)>& banner);

}  // namespace tg::serve
