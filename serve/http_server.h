#pragma once
// The HTTP side of a model server, on cpp-httplib (Debian's
// libcpp-httplib-dev) with JSON from nlohmann-json: routes whose handlers
// take and return JSON, and the limits every route gets:
//   - bodies above max_body_bytes: 413; a JSON route's body must be a JSON
//     object or array sent as Content-Type application/json, else 400 naming what came;
//   - a request (line, headers and body) must arrive within request_timeout
//     from its first byte's wait, else the connection is dropped: a client
//     sending a byte a second cannot hold a thread (httplib's own read timeout
//     is per read);
//   - with an API key set, POST routes answer 403 unless the body's "api_key"
//     (LibreTranslate's field) or the X-API-Key header holds it;
//   - a handler's HttpError becomes its status with {"error": message};
//     QueueFull (serve/batch_queue.h) 503 with Retry-After; other exceptions 500;
//     messages are cut to kMaxErrorBytes;
//   - a route's path asked with another method: 405 with Allow;
//   - two Content-Length headers that differ: 400, and the connection closes
//     (RFC 9112: a request-smuggling risk behind a proxy);
//   - answers go out at once (TCP_NODELAY): without it, every answer after the
//     first on a kept-alive connection waited ~40 ms for the client's delayed ACK.
// Binds 127.0.0.1 unless told otherwise. stop() (from any thread, e.g. on
// SIGTERM) stops accepting; serve() returns once the requests in flight are answered.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace httplib {
struct Request;
}

namespace tg::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                                // 0: any free port (bind() says which)
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds request_timeout{10};       // to receive a whole request
  std::chrono::seconds write_timeout{10};         // per write of the answer
  std::chrono::seconds keep_alive_timeout{5};     // an idle connection is closed after it
  int threads = 64;                               // connections served at once (each kept-alive one holds a thread)
  std::string api_key;                            // non-empty: POST routes require it
};

// A request the handler refuses: HTTP status and a message for {"error": ...}.
class HttpError : public Error {
 public:
  HttpError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// A POST route's handler: the body (a JSON object or array) -> the answer.
using JsonHandler = std::function<nlohmann::json(const nlohmann::json& body)>;
// A POST route that reads the raw body (audio): the body, its content type -> the answer.
using BodyHandler = std::function<nlohmann::json(const std::string& body, const std::string& content_type)>;

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void post_json(const std::string& path, JsonHandler handler);
  void post_body(const std::string& path, BodyHandler handler);
  void get_json(const std::string& path, std::function<nlohmann::json()> handler);
  // A fixed document (the page), served as is.
  void get_document(const std::string& path, std::string content_type, std::string body);

  // Binds host:port; returns the port. Throws naming host:port when it cannot.
  int bind();
  // Answers requests until stop(); returns after the requests in flight are answered.
  void serve();
  // Stops accepting; thread-safe.
  void stop();
  const ServerOptions& options() const { return options_; }

 private:
  class Impl;
  ServerOptions options_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_requested_ = false;
  std::map<std::string, std::set<std::string>> methods_;  // path -> the methods it answers (the rest: 405)
  void answer_other_methods_with_405();
};

// JSON nested deeper than this is refused before it is parsed: a request
// must never exhaust the server's stack (parsing, copying or freeing it).
constexpr int kMaxJsonDepth = 64;
// At most this many bytes of an error message go back (one that quotes the
// request is cut, at a character boundary).
constexpr size_t kMaxErrorBytes = 300;

// The JSON body of a POST route, parsed and checked (a JSON object or array,
// sent as application/json, nested at most kMaxJsonDepth deep); throws
// HttpError 400 naming the problem.
// Exposed for the request-parser fuzz target.
nlohmann::json parse_json_body(const std::string& body, const std::string& content_type);

}  // namespace tg::serve
