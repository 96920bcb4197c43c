#include "serve/serve_until_signal.h"

#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "serve/http_server.h"
#include "signals/stop_signals.h"

namespace tg::serve {

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
  // SIGHUP too: a closed terminal or a supervisor's reload must not kill requests in flight. The server stops
  // from the waiter's thread: a signal handler may not.
  const signals::StopSignalWaiter stop({.signals = {SIGTERM, SIGINT, SIGHUP}}, [&](const char* name) {
    std::fprintf(stderr, "%s: finishing the requests in flight, then stopping\n", name);
    server.stop();
  });
  std::printf("%s\n", banner(port).c_str());
  std::fflush(stdout);
  server.serve();
}

}  // namespace tg::serve
