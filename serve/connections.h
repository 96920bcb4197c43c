#pragma once
// The server's connections, event-driven on Boost.Asio: one thread runs the
// event loop (accepting, reading requests, writing answers, every timeout),
// so an idle or slow connection costs a socket and a few kilobytes, never a
// thread; requests, once read whole (serve/request_framer.h), are answered on
// a pool of ServerOptions::threads workers, so a slow answer never holds the
// loop. What a connection may do and how long it may take is
// ServerOptions' (serve/http_server.h).
//
// While a request is being answered the loop watches its socket: a client
// that closes or resets it has gone, and Request::client_gone is set (work
// not yet started for it can be dropped; a half-closed client looks the
// same and is treated so, as nginx does).
#include <functional>
#include <memory>

#include "serve/http_message.h"

namespace tg::serve {

struct ServerOptions;

class Connections {
 public:
  using Answer = std::function<Response(Request&)>;
  Connections(const ServerOptions& options, Answer answer);
  ~Connections();
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  // Binds options.host:options.port; returns the port. Throws naming host:port when it cannot.
  int bind();
  // Runs the loop until stop(); returns once the requests in flight are answered.
  void serve();
  // Stops accepting; closes connections that are not being answered. Thread-safe.
  void stop();

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace tg::serve
