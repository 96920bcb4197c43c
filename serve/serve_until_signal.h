#pragma once
// A server's life as the programs run it, up to a stop signal (SIGTERM,
// SIGINT or SIGHUP; signals/stop_signals.h): instead of dying mid-request, the
// server stops taking requests and answers those in flight.
#include <functional>
#include <string>

namespace tg::serve {

class HttpServer;

// The URL of host:port ("http://[::1]:8080" for an IPv6 address).
std::string http_url(const std::string& host, int port);

// Binds `server`, warns on stderr when it listens beyond loopback without an
// API key, prints the line banner(port) gives, answers requests until
// SIGTERM, SIGINT or SIGHUP (said on stderr; a second one changes nothing),
// and returns once the requests in flight are answered. The signals get their
// default actions back on return.
void serve_until_signal(HttpServer& server, const std::function<std::string(int port)>& banner);

}  // namespace tg::serve
