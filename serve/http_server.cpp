#include "serve/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "serve/batch_queue.h"
#include "serve/rate_limiter.h"

namespace tg::serve {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxWaitingConnections = 1024;  // accepted, waiting for a thread; more are closed at once

// JSON text of an answer; bytes that are not UTF-8 (a message quoting a bad request) become U+FFFD.
std::string dump(const nlohmann::json& json) { return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// `message` cut to kMaxErrorBytes at a UTF-8 character boundary, saying how long it was.
std::string capped(const std::string& message) {
  if (message.size() <= kMaxErrorBytes) return message;
  size_t end = kMaxErrorBytes;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;  // not inside a character
  return fmt::format("{}... ({} bytes in all)", message.substr(0, end), message.size());
}

bool openai_route(const std::string& path) { return path.rfind("/v1/", 0) == 0; }

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1000));  // wake at least each second
}

// A connection's socket as RequestReader reads it. Waiting for a request's
// first byte, it gives up after the idle wait; from that byte on, the whole
// request must arrive within request_timeout. Either way it gives up when the
// server stops (stop_fd readable): requests already read are answered.
class SocketSource : public ByteSource {
 public:
  SocketSource(int fd, int stop_fd, std::chrono::seconds request_timeout)
      : fd_(fd), stop_fd_(stop_fd), request_timeout_(request_timeout) {}
  // The next request has yet to start: wait up to `idle` for its first byte.
  void await_request(std::chrono::seconds idle) {
    idle_ = true;
    deadline_ = Clock::now() + idle;
  }
  // The next request's bytes are already buffered (pipelined): its time starts now.
  void start_request() {
    idle_ = false;
    deadline_ = Clock::now() + request_timeout_;
  }
  bool fill(std::string& buffer) override {
    for (;;) {
      if (Clock::now() >= deadline_) return false;
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      const int ready = ::poll(fds, 2, milliseconds_until(deadline_));
      if (ready < 0 && errno != EINTR) return false;
      if (ready <= 0) continue;
      // Stopping: an idle connection closes, and so does one whose request has not arrived whole (it is not in
      // flight yet; waiting out its request_timeout, slow clients had held the exit for many seconds).
      if (fds[1].revents != 0) return false;
      if (fds[0].revents == 0) continue;
      char chunk[64 * 1024];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return false;
      if (idle_) start_request();
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

 private:
  int fd_, stop_fd_;
  std::chrono::seconds request_timeout_;
  bool idle_ = true;
  Clock::time_point deadline_ = Clock::now();
};

// All of `bytes`, or false when the client stops reading for `timeout` or goes away.
bool send_all(int fd, std::string_view bytes, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    pollfd out{fd, POLLOUT, 0};
    ::poll(&out, 1, milliseconds_until(deadline));
  }
  return true;
}

// Closing after an answer while the client may still be sending (a refused body): stop writing, read
// what is in flight for a moment, then close, so that the client reads the answer rather than a reset.
void close_gracefully(int fd) {
  ::shutdown(fd, SHUT_WR);
  const auto deadline = Clock::now() + std::chrono::milliseconds(500);
  char sink[16 * 1024];
  size_t drained = 0;
  while (Clock::now() < deadline && drained < (4u << 20)) {
    pollfd in{fd, POLLIN, 0};
    if (::poll(&in, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, sink, sizeof sink, 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::string address_of(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  else if (address.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  return text;
}

struct Route {
  Handler handler;
  RouteOptions options;
};

}  // namespace

Response json_response(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  r.body = dump(body);
  return r;
}

Response error_response(const std::string& path, int status, const std::string& message) {
  if (!openai_route(path)) return json_response({{"error", capped(message)}}, status);
  // OpenAI's shape: {"error": {"message", "type", "param", "code"}}
  const char* type = status >= 500 ? "server_error"
                     : status == 401 || status == 403 ? "authentication_error"
                     : status == 429 ? "rate_limit_error"
                                     : "invalid_request_error";
  const nlohmann::json code = status == 401 ? nlohmann::json("invalid_api_key") : nlohmann::json(nullptr);
  return json_response({{"error", {{"message", capped(message)}, {"type", type}, {"param", nullptr}, {"code", code}}}},
                       status);
}

class HttpServer::Impl {
 public:
  explicit Impl(const ServerOptions& options) : limiter(options.rate_limit_per_minute) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail("HttpServer: cannot make a pipe");
    stop_read = fds[0];
    stop_write = fds[1];
  }
  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    ::close(stop_read);
    ::close(stop_write);
  }

  std::map<std::string, std::map<std::string, Route>> exact;   // path -> method -> route
  std::map<std::string, std::map<std::string, Route>> prefix;  // path before '*' -> method -> route
  RateLimiter limiter;
  int listen_fd = -1;
  int stop_read = -1, stop_write = -1;  // a byte in the pipe: stopping (never read, so it stays readable)
  std::atomic<bool> stopping = false;
};

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>(options_)) {
  if (options_.threads < 1) fail("HttpServer: threads must be positive, got {}", options_.threads);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& path, Handler handler, RouteOptions options) {
  auto& table = !path.empty() && path.back() == '*' ? impl_->prefix : impl_->exact;
  const std::string key = !path.empty() && path.back() == '*' ? path.substr(0, path.size() - 1) : path;
  table[key][method] = Route{std::move(handler), options};
}

void HttpServer::post_json(const std::string& path, JsonHandler handler) {
  route("POST", path,
        [handler = std::move(handler)](const Request&, const BodyFields& body) { return json_response(handler(body.fields)); },
        {.body = BodyRead::json, .needs_key = true});
}

void HttpServer::get_json(const std::string& path, std::function<nlohmann::json()> handler) {
  route("GET", path, [handler = std::move(handler)](const Request&, const BodyFields&) { return json_response(handler()); });
}

void HttpServer::get_document(const std::string& path, std::string content_type, std::string body) {
  Response document;
  document.content_type = std::move(content_type);
  document.body = std::move(body);
  route("GET", path, [document](const Request&, const BodyFields&) { return document; });
}

// A keyed route's key, then its rate: the key first, so that requests without it cannot use up the key
// holder's minute. With a key set, a request that proves it counts against the key; one that does not,
// against its address (a client guessing keys is limited too); without a key, every request against its
// address. Throws HttpError (401/403, or 429 with Retry-After).
void HttpServer::check_key_and_rate(const Request& request, const BodyFields& fields) {
  auto limit = [&](const std::string& client, const char* per) {
    if (options_.rate_limit_per_minute <= 0) return;
    if (const int64_t wait = impl_->limiter.wait_seconds(client); wait > 0)
      throw HttpError(429, fmt::format("too many requests: the limit is {} a minute per {} (--rate-limit)",
                                       options_.rate_limit_per_minute, per),
                      {{"Retry-After", std::to_string(wait)}});
  };
  if (options_.api_key.empty()) return limit("address " + request.remote_address, "client");
  std::string given = request.header("x-api-key");
  if (const std::string auth = request.header("authorization");
      auth.size() > 7 && lowercase(auth.substr(0, 7)) == "bearer ") {  // the scheme in any case (RFC 9110 11.1)
    given = auth.substr(7);
    given.erase(0, given.find_first_not_of(' '));  // all spaces: npos erases them all
  }
  if (const auto key = request.query.find("api_key"); key != request.query.end() && !key->second.empty())
    given = key->second;  // LibreTranslate reads ?api_key= too
  if (fields.fields.is_object())
    if (const auto key = fields.fields.find("api_key"); key != fields.fields.end() && key->is_string() &&
                                                        !key->get<std::string>().empty())
      given = key->get<std::string>();
  if (given.empty() || given != options_.api_key) {
    limit("address " + request.remote_address, "client without the key");
    const int status = openai_route(request.path) ? 401 : 403;
    if (given.empty())
      throw HttpError(status, "an API key is required (the body's \"api_key\", ?api_key=, X-API-Key or Authorization: Bearer)");
    throw HttpError(status, "invalid API key");
  }
  limit("key", "API key");
}

Response HttpServer::answer(Request& request) {
  Response response = answer_route(request);
  if (response.body.size() > options_.max_response_bytes)  // made, but not sent: one request cannot cost a client's RAM
    response = error_response(request.path, 400,
                              fmt::format("the answer would be {} bytes; the limit is {} (--max-response-bytes): ask "
                                          "for less (fewer sentences, alternatives or no attention)",
                                          response.body.size(), options_.max_response_bytes));
  if (!options_.cors_origin.empty()) {
    response.headers.emplace_back("Access-Control-Allow-Origin", options_.cors_origin);
    if (options_.cors_origin != "*") response.headers.emplace_back("Vary", "Origin");
  }
  return response;
}

Response HttpServer::answer_route(Request& request) {
  try {
    const std::map<std::string, Route>* methods = nullptr;
    if (const auto it = impl_->exact.find(request.path); it != impl_->exact.end()) methods = &it->second;
    for (const auto& [start, routes] : impl_->prefix)
      if (!methods && request.path.rfind(start, 0) == 0) methods = &routes;
    if (!methods) throw HttpError(404, fmt::format("no route {} {}", request.method, request.path));
    std::string allow;
    for (const auto& [method, unused] : *methods) allow += (allow.empty() ? "" : ", ") + method;
    if (methods->contains("GET")) allow += ", HEAD";
    if (request.method == "OPTIONS" && !options_.cors_origin.empty()) {  // a browser's CORS preflight
      Response preflight;
      preflight.status = 204;
      preflight.content_type.clear();
      preflight.headers = {{"Access-Control-Allow-Methods", allow},
                           {"Access-Control-Allow-Headers", "Content-Type, Authorization, X-API-Key"},
                           {"Access-Control-Max-Age", "600"}};
      return preflight;
    }
    auto route = methods->find(request.method == "HEAD" ? "GET" : request.method);
    if (route == methods->end()) {
      Response refused = error_response(request.path, 405,
                                        fmt::format("{} {}: this route answers {}", request.method, request.path, allow));
      refused.headers.emplace_back("Allow", allow);
      return refused;
    }
    const RouteOptions& options = route->second.options;
    BodyFields fields;
    if (options.body != BodyRead::raw)
      fields = parse_body_fields(request.body, request.header("content-type"),
                                 options.body == BodyRead::json ? BodyKinds::json : BodyKinds::json_or_form);
    if (options.needs_key) check_key_and_rate(request, fields);
    return route->second.handler(request, fields);
  } catch (const HttpError& e) {
    Response refused = error_response(request.path, e.status(), e.what());
    for (const auto& header : e.headers()) refused.headers.push_back(header);
    return refused;
  } catch (const RequestTooLarge& e) {
    return error_response(request.path, 413, e.what());
  } catch (const QueueFull& e) {
    Response busy = error_response(request.path, 503, fmt::format("busy: {}; retry later", e.what()));
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  } catch (const std::exception& e) {
    return error_response(request.path, 500, e.what());
  }
}

int HttpServer::bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    fail("cannot listen on {}:{}: not an address of this machine", options_.host, options_.port);
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) fail("cannot listen on {}:{} (in use, or not an address of this machine)", options_.host, options_.port);
  impl_->listen_fd = fd;
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(bound).sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in&>(bound).sin_port);
}

void HttpServer::serve() {
  if (impl_->listen_fd < 0) fail("HttpServer::serve: bind() first");
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::pair<int, std::string>> waiting;  // accepted connections and their client's address
  bool done = false;
  auto serve_connection = [this](int fd, const std::string& client) {
    SocketSource source(fd, impl_->stop_read, options_.request_timeout);
    RequestReader reader(source, options_.max_body_bytes);
    bool first = true, graceful = false;
    for (;;) {
      if (reader.has_buffered()) source.start_request();
      else source.await_request(first ? options_.request_timeout : options_.keep_alive_timeout);
      first = false;
      Request request;
      Response response;
      bool keep_alive = false;
      try {
        const bool read = reader.read(request, [&](const Request& head) {
          if (head.minor_version >= 1 && lowercase(head.header("expect")) == "100-continue")  // any case (RFC 9110)
            send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", options_.write_timeout);
        });
        if (!read) break;
        request.remote_address = client;
        keep_alive = request.keep_alive();
        response = answer(request);
      } catch (const HttpError& e) {  // refused before its end was known: answer, then close
        response = error_response(request.path, e.status(), e.what());
        graceful = true;
      } catch (const Error&) {  // the stream ended or timed out inside a request
        break;
      }
      keep_alive = keep_alive && !graceful && !impl_->stopping;
      if (!send_all(fd, serialize(response, keep_alive, request.method == "HEAD"), options_.write_timeout)) break;
      if (!keep_alive) break;
    }
    if (graceful) close_gracefully(fd);
    else ::close(fd);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < options_.threads; ++i)
    threads.emplace_back([&] {
      for (;;) {
        std::pair<int, std::string> connection;
        {
          std::unique_lock lock(mutex);
          wake.wait(lock, [&] { return done || !waiting.empty(); });
          if (waiting.empty()) return;
          connection = std::move(waiting.front());
          waiting.pop_front();
        }
        serve_connection(connection.first, connection.second);
      }
    });
  while (!impl_->stopping) {
    pollfd fds[2] = {{impl_->listen_fd, POLLIN, 0}, {impl_->stop_read, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = ::accept4(impl_->listen_fd, reinterpret_cast<sockaddr*>(&address), &length, SOCK_CLOEXEC);
    if (fd < 0) {  // the client went away, or out of descriptors for now: do not spin on the ready socket
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    const std::lock_guard lock(mutex);
    if (waiting.size() >= kMaxWaitingConnections) {
      ::close(fd);
      continue;
    }
    waiting.emplace_back(fd, address_of(address));
    wake.notify_one();
  }
  ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
  {
    const std::lock_guard lock(mutex);
    done = true;  // connections already accepted are still served
  }
  wake.notify_all();
  for (std::thread& t : threads) t.join();
}

void HttpServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(impl_->stop_write, &byte, 1);
}

}  // namespace tg::serve
