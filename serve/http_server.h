#pragma once
// The HTTP side of a model server: connections event-driven on Boost.Asio
// (serve/connections.h: an idle or slow connection costs a socket, not a
// thread), requests framed by Boost.Beast's parser and held to this server's
// rules (serve/request_framer.h), JSON from nlohmann-json, routes whose
// handlers take a request's fields and return an answer, made on a pool of
// `threads` workers, and the limits every route gets:
//   - a request (head and body) must arrive within request_timeout from its
//     first byte, else the connection is dropped (a client sending a byte a
//     second holds a socket for that long, never a thread); the first request
//     waits request_timeout for its first byte, a kept-alive connection's next
//     one keep_alive_timeout; at most max_connections are open (more are
//     closed at once);
//   - bodies above max_body_bytes: 413, however framed (Content-Length or
//     chunked), before they are read; "Expect: 100-continue" is answered;
//   - pipelined requests are answered in order; a client that half-closes
//     after its request still gets the answer;
//   - a request refused before its body is known (malformed, too large) is
//     answered and its connection closed: the next request's start is unknown;
//   - a route's body is read as JSON, or as JSON or a form
//     (serve/request_body.h); another content type: 415;
//   - with an API key set, routes that need one answer 403 (401 with
//     OpenAI's error shape) unless it comes as the body's "api_key"
//     (LibreTranslate's field), ?api_key=, X-API-Key, or Authorization:
//     Bearer (the scheme in any case);
//   - with rate_limit_per_minute set, more requests than that in a minute to
//     routes that need a key: 429 with Retry-After. The key is checked first:
//     requests that prove it count against the key, those that do not against
//     their address (so keyless requests, behind a proxy too, cannot use up
//     the key holder's minute); without a key set, each address has its own;
//   - a handler's HttpError becomes its status; QueueFull (serve/batch_queue.h)
//     503 with Retry-After; RequestTooLarge 413; other exceptions 500;
//     messages cut to kMaxErrorBytes. The error body is {"error": message},
//     or under /v1/ OpenAI's {"error": {"message", "type", "code"}};
//   - a route's path asked with another method: 405 with Allow; HEAD is
//     answered as GET without the body;
//   - with cors_origin set, every answer carries Access-Control-Allow-Origin
//     and OPTIONS on a route's path is a CORS preflight (204, the methods and
//     the headers a client may send: Content-Type, Authorization, X-API-Key);
//   - memory a burst took goes back once nothing is in flight for half a
//     second (ServerOptions::release_memory, then malloc_trim; malloc is set
//     for bursts when serve() starts: see serve/connections.cpp);
//   - answers go out at once (TCP_NODELAY): without it, every answer after the
//     first on a kept-alive connection waited ~40 ms for the client's delayed ACK.
// Binds 127.0.0.1 unless told otherwise. stop() (from any thread, e.g. on
// SIGTERM) stops accepting and closes the connections not being answered;
// serve() returns once the requests in flight are answered.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "serve/http_message.h"
#include "serve/request_body.h"

namespace tg::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                                // 0: any free port (bind() says which)
  size_t max_body_bytes = 1 << 20;
  size_t max_response_bytes = 8 << 20;            // a larger answer is replaced by a 400 saying so
  std::chrono::seconds request_timeout{10};       // to receive a whole request
  std::chrono::seconds write_timeout{10};         // to send an answer
  std::chrono::seconds keep_alive_timeout{5};     // an idle connection is closed after it
  int threads = 64;                               // requests answered at once (the workers; reading and writing take none)
  size_t max_connections = 10000;                 // open at once (idle and slow ones included); capped by open files
  std::string api_key;                            // non-empty: the routes that need a key require it
  int rate_limit_per_minute = 0;                  // on routes that need a key (per key, or address); 0: none
  std::string cors_origin;                        // non-empty ("*" or an origin): CORS headers, OPTIONS preflight
  // Run on a worker once no request has been in flight for half a second after some were answered, before
  // malloc_trim: a program gives back its own caches here (the tensors' allocator's).
  std::function<void()> release_memory;
};

// What a route reads of the body before its handler runs.
enum class BodyRead { raw, json, json_or_form };

struct RouteOptions {
  BodyRead body = BodyRead::raw;
  bool needs_key = false;  // with ServerOptions::api_key set; counted by the rate limit
};

// A route's handler: the request (with its body as sent) and the body's fields
// (empty for BodyRead::raw) -> the answer.
using Handler = std::function<Response(const Request&, const BodyFields&)>;

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `path` ending in '*' matches every path that starts with what comes before it.
  void route(const std::string& method, const std::string& path, Handler handler, RouteOptions options = {});
  void get_json(const std::string& path, std::function<nlohmann::json()> handler);
  // A fixed document (a page), served as is.
  void get_document(const std::string& path, std::string content_type, std::string body);

  // Binds host:port; returns the port. Throws naming host:port when it cannot.
  int bind();
  // Answers requests until stop(); returns after the requests in flight are answered.
  void serve();
  // Stops accepting; thread-safe.
  void stop();
  const ServerOptions& options() const { return options_; }

  // The answer to `request` as the routes give it (no socket): what a
  // connection sends back for a request it has read.
  Response answer(Request& request);

 private:
  Response answer_route(Request& request);  // answer() before the CORS headers
  void check_key_and_rate(const Request& request, const BodyFields& fields);
  class Impl;
  ServerOptions options_;
  std::unique_ptr<Impl> impl_;
};

// At most this many bytes of an error message go back (one that quotes the
// request is cut, at a character boundary).
constexpr size_t kMaxErrorBytes = 300;

// The error body for `status` and `message` as a route under `path` gives it.
Response error_response(const std::string& path, int status, const std::string& message);

// A JSON answer.
Response json_response(const nlohmann::json& body, int status = 200);

}  // namespace tg::serve
