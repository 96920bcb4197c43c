#include "serve/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/batch_queue.h"

namespace tg::serve {

namespace {

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// JSON text of an answer; bytes that are not UTF-8 (a message quoting a bad request) become U+FFFD.
std::string dump(const nlohmann::json& json) { return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// `message` cut to kMaxErrorBytes at a UTF-8 character boundary, saying how long it was.
std::string capped(const std::string& message) {
  if (message.size() <= kMaxErrorBytes) return message;
  size_t end = kMaxErrorBytes;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;  // not inside a character
  return fmt::format("{}... ({} bytes in all)", message.substr(0, end), message.size());
}

void answer_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(dump(nlohmann::json{{"error", capped(message)}}), "application/json");
}

// Whether the JSON text nests arrays and objects deeper than `limit` (brackets inside strings do not count).
bool nested_deeper_than(const std::string& text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// The socket a thread of this process is blocked reading, or -1: from the
// system call it is in (/proc/self/task/TID/syscall: number and arguments).
// httplib 0.11 as Debian builds it gives no hook that sees a connection's
// socket, but its pool threads block in select/poll/recv on exactly one.
int blocked_socket(pid_t tid) {
#if defined(__x86_64__)
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long number = -1;
  unsigned long arg0 = 0;
  if (!(in >> number >> std::hex >> arg0)) return -1;
  int fd = -1;
  if (number == SYS_read || number == SYS_recvfrom) fd = static_cast<int>(arg0);
  else if (number == SYS_select || number == SYS_pselect6) fd = static_cast<int>(arg0) - 1;  // nfds = fd + 1
  else if (number == SYS_poll || number == SYS_ppoll) fd = reinterpret_cast<const pollfd*>(arg0)->fd;  // our memory
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return -1;
  return fd;
#else
  (void)tid;
  return -1;  // elsewhere only httplib's per-read timeout applies
#endif
}

// The pool threads serving connections, each with the time its request must
// have arrived by while it waits for one. A watchdog thread shuts down the
// socket a late thread is blocked on; its read fails and httplib drops the
// connection, so a client sending a byte a second cannot hold a thread
// (httplib's own read timeout is per read).
class RequestDeadlines {
 public:
  RequestDeadlines() : watchdog_([this] { watch(); }) {}
  ~RequestDeadlines() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    watchdog_.join();
  }
  // This thread starts reading a request (a new connection, or the next one on a kept-alive one).
  void arm(std::chrono::seconds timeout) {
    const std::lock_guard lock(mutex_);
    entries_[gettid()] = std::chrono::steady_clock::now() + timeout;
  }
  // This thread's request has arrived, or its connection is closed.
  void disarm() {
    const std::lock_guard lock(mutex_);
    entries_.erase(gettid());
  }

 private:
  void watch() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      const auto now = std::chrono::steady_clock::now();
      for (auto it = entries_.begin(); it != entries_.end();) {
        const int fd = now > it->second ? blocked_socket(it->first) : -1;
        if (fd >= 0) {
          ::shutdown(fd, SHUT_RDWR);
          it = entries_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<pid_t, std::chrono::steady_clock::time_point> entries_;  // thread -> deadline
  bool stopping_ = false;
  std::thread watchdog_;
};

// httplib's task queue: `threads` threads, each connection's work run with its request deadline armed.
class DeadlinePool : public httplib::TaskQueue {
 public:
  DeadlinePool(int threads, RequestDeadlines& deadlines, std::chrono::seconds timeout)
      : deadlines_(deadlines), timeout_(timeout) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  void enqueue(std::function<void()> fn) override {
    {
      const std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(fn));
    }
    wake_.notify_one();
  }
  void shutdown() override {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      deadlines_.arm(timeout_);
      job();  // the connection: its requests, until it closes
      deadlines_.disarm();
    }
  }

  RequestDeadlines& deadlines_;
  std::chrono::seconds timeout_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

class HttpServer::Impl : public httplib::Server {
 public:
  explicit Impl(const ServerOptions& options) : options_(options) {
    new_task_queue = [this] { return new DeadlinePool(options_.threads, deadlines, options_.request_timeout); };
  }
  RequestDeadlines deadlines;

  // The request has arrived (a handler runs): the deadline no longer applies.
  void request_arrived() { deadlines.disarm(); }
  // Answered: the next request on this connection gets a deadline of its own,
  // after the keep-alive wait for it.
  void request_answered() { deadlines.arm(options_.request_timeout + options_.keep_alive_timeout); }

 private:
  const ServerOptions& options_;
};

nlohmann::json parse_json_body(const std::string& body, const std::string& content_type) {
  const std::string type = lowercase(content_type.substr(0, content_type.find(';')));
  if (type.find("application/json") == std::string::npos)
    throw HttpError(400, fmt::format("expected Content-Type application/json, got '{}'",
                                     content_type.empty() ? std::string("none") : content_type));
  if (nested_deeper_than(body, kMaxJsonDepth))
    throw HttpError(400, fmt::format("invalid JSON body: nested deeper than {} levels", kMaxJsonDepth));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number that overflows
    // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    std::string what = e.what();
    if (const size_t at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    throw HttpError(400, "invalid JSON body: " + what);
  }
  if (!json.is_object() && !json.is_array())
    throw HttpError(400, fmt::format("expected a JSON object or array, got {}", json.type_name()));
  return json;
}

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>(options_)) {
  if (options_.threads < 1) fail("HttpServer: threads must be positive, got {}", options_.threads);
  impl_->set_payload_max_length(options_.max_body_bytes);
  impl_->set_read_timeout(options_.request_timeout);
  impl_->set_write_timeout(options_.write_timeout);
  impl_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
  // httplib closes a kept-alive connection after 5 requests by default; a client whose next request is already
  // on its way then reads a closed socket (9 of 20,000 requests in the load test). Keep connections open.
  impl_->set_keep_alive_max_count(100000);
  impl_->set_tcp_nodelay(true);
  impl_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value_count("Content-Length") > 1) {
      const std::string first = req.get_header_value("Content-Length", 0);
      for (size_t i = 1; i < req.get_header_value_count("Content-Length"); ++i)
        if (req.get_header_value("Content-Length", i) != first) {
          res.set_header("Connection", "close");
          answer_error(res, 400, "two Content-Length headers that differ");
          return httplib::Server::HandlerResponse::Handled;
        }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  impl_->set_post_routing_handler([this](const httplib::Request&, httplib::Response&) { impl_->request_answered(); });
  // Statuses httplib sets itself (404, 413, 400 for a malformed request) get a JSON body too.
  impl_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = fmt::format("HTTP status {}", res.status);
    if (res.status == 400) message = "malformed HTTP request";
    if (res.status == 404) message = fmt::format("no route {} {}", req.method, req.path);
    if (res.status == 413) message = "the request body is too large";
    answer_error(res, res.status, message);
  });
  impl_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const HttpError& e) {
      answer_error(res, e.status(), e.what());
    } catch (const RequestTooLarge& e) {
      answer_error(res, 413, e.what());
    } catch (const QueueFull& e) {
      res.set_header("Retry-After", "1");
      answer_error(res, 503, fmt::format("busy: {}; retry later", e.what()));
    } catch (const std::exception& e) {
      answer_error(res, 500, e.what());
    } catch (...) {
      answer_error(res, 500, "unknown error");
    }
  });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::post_json(const std::string& path, JsonHandler handler) {
  methods_[path].insert("POST");
  impl_->Post(path, [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    impl_->request_arrived();
    const nlohmann::json body = parse_json_body(req.body, req.get_header_value("Content-Type"));
    if (!options_.api_key.empty()) {
      std::string given = req.get_header_value("X-API-Key");
      if (body.is_object())
        if (const auto key = body.find("api_key"); key != body.end() && key->is_string()) given = key->get<std::string>();
      if (given != options_.api_key)
        throw HttpError(403, given.empty() ? "an API key is required (the body's \"api_key\" or X-API-Key)"
                                           : "invalid API key");
    }
    res.set_content(dump(handler(body)), "application/json");
  });
}

void HttpServer::post_body(const std::string& path, BodyHandler handler) {
  methods_[path].insert("POST");
  impl_->Post(path, [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    impl_->request_arrived();
    if (!options_.api_key.empty() && req.get_header_value("X-API-Key") != options_.api_key)
      throw HttpError(403, req.has_header("X-API-Key") ? "invalid API key" : "an API key is required (X-API-Key)");
    res.set_content(dump(handler(req.body, req.get_header_value("Content-Type"))), "application/json");
  });
}

void HttpServer::get_json(const std::string& path, std::function<nlohmann::json()> handler) {
  methods_[path].insert("GET");
  impl_->Get(path, [this, handler = std::move(handler)](const httplib::Request&, httplib::Response& res) {
    impl_->request_arrived();
    res.set_content(dump(handler()), "application/json");
  });
}

void HttpServer::get_document(const std::string& path, std::string content_type, std::string body) {
  methods_[path].insert("GET");
  impl_->Get(path, [this, content_type = std::move(content_type), body = std::move(body)](const httplib::Request&,
                                                                                          httplib::Response& res) {
    impl_->request_arrived();
    res.set_content(body, content_type);
  });
}

// Every route's path answers the methods it lacks with 405 and Allow (registered last, so that no route is
// shadowed).
void HttpServer::answer_other_methods_with_405() {
  for (const auto& [path, methods] : methods_) {
    std::string allow;
    for (const std::string& m : methods) allow += (allow.empty() ? "" : ", ") + m;
    auto refuse = [this, allow](const httplib::Request& req, httplib::Response& res) {
      impl_->request_arrived();
      res.set_header("Allow", allow);
      answer_error(res, 405, fmt::format("{} {}: this route answers {}", req.method, req.path, allow));
    };
    if (!methods.contains("GET")) impl_->Get(path, refuse);
    if (!methods.contains("POST")) impl_->Post(path, refuse);
    impl_->Put(path, refuse);
    impl_->Delete(path, refuse);
    impl_->Patch(path, refuse);
  }
  methods_.clear();
}

int HttpServer::bind() {
  answer_other_methods_with_405();
  if (options_.port == 0) {
    const int port = impl_->bind_to_any_port(options_.host);
    if (port <= 0) fail("cannot listen on {}: no free port", options_.host);
    return port;
  }
  if (!impl_->bind_to_port(options_.host, options_.port))
    fail("cannot listen on {}:{} (in use, or not an address of this machine)", options_.host, options_.port);
  return options_.port;
}

void HttpServer::serve() {
  if (!stop_requested_) impl_->listen_after_bind();
}

void HttpServer::stop() {
  stop_requested_ = true;
  impl_->stop();  // nothing when not listening
}

}  // namespace tg::serve
