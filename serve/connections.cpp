#include "serve/connections.h"

#include <malloc.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "serve/http_server.h"
#include "serve/request_framer.h"

namespace tg::serve {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadBytes = 16 * 1024;  // read at a time: what an idle connection's buffer costs
constexpr auto kIdleBeforeRelease = 500ms;  // no request in flight this long after answering: memory goes back
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string address_of(const tcp::socket& socket) {
  error_code error;
  const tcp::endpoint peer = socket.remote_endpoint(error);
  return error ? std::string() : peer.address().to_string();
}

// Open files the process may have: as many as its hard limit allows (each connection is one). The connections
// served at once stay this far below it, for the models' and logs' files.
size_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<size_t>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
}

// The watch over a socket whose request is being answered (see the header).
struct GoneWatch {
  bool active = true;  // false once the answer is made: the socket may be gone by the time a late wake-up runs
  std::shared_ptr<std::atomic<bool>> client_gone;
};

}  // namespace

class Connections::Loop {
 public:
  Loop(const ServerOptions& options, Answer answer) : options(options), answer(std::move(answer)), acceptor(io) {}

  // A connection the loop serves; `busy` while a request read whole is answered (stop() lets it finish).
  struct Open {
    beast::tcp_stream* stream;
    bool busy = false;
  };
  // Registers a connection for its lifetime (the loop's thread only).
  struct Registration {
    std::list<Open>& open;
    std::list<Open>::iterator entry;
    Registration(std::list<Open>& open, beast::tcp_stream* stream) : open(open), entry(open.insert(open.end(), {stream})) {}
    ~Registration() { open.erase(entry); }
  };

  asio::awaitable<void> accept_loop() {
    asio::steady_timer pause(io);
    while (!stopping) {
      auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
      if (!acceptor.is_open()) break;
      if (error) {  // the client went away, or out of descriptors for now: do not spin on the ready socket
        pause.expires_after(50ms);
        co_await pause.async_wait(kUseTuple);
        continue;
      }
      if (open.size() >= connection_limit) continue;  // closed at once (the socket's destructor)
      socket.set_option(tcp::no_delay(true), error);  // answers go out at once, not after the client's delayed ACK
      asio::co_spawn(io, serve_connection(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve_connection(tcp::socket socket) {
    const std::string client = address_of(socket);
    beast::tcp_stream stream(std::move(socket));
    const Registration registration(open, &stream);
    Open& state = *registration.entry;
    RequestFramer framer(options.max_body_bytes);
    try {
      for (bool first = true;; first = false) {
        Response response;
        bool refused = false, whole = false;
        try {
          whole = co_await read_request(stream, framer, first);
        } catch (const HttpError& e) {  // refused before its end was known: answer, then close
          response = error_response(framer.request().path, e.status(), e.what());
          refused = true;
        }
        if (!whole && !refused) break;  // closed, timed out, or stopping
        state.busy = true;
        Request& request = framer.request();
        if (whole) {
          request.remote_address = client;
          response = co_await answer_on_worker(request, stream.socket());
        }
        const bool keep_alive = whole && request.keep_alive() && !stopping;
        const std::string bytes = serialize(response, keep_alive, whole && request.method == "HEAD");
        stream.expires_after(options.write_timeout);
        auto [error, written] = co_await asio::async_write(stream, asio::buffer(bytes), kUseTuple);
        state.busy = false;
        if (error) break;
        if (refused) co_await drain_and_close(stream);
        if (!keep_alive) break;
        framer.next();
      }
    } catch (const std::exception&) {
      // out of memory for this connection: it goes, the server stays
    }
    error_code ignored;
    stream.socket().close(ignored);
  }

  // Reads a request into `framer`: true once it is whole; false when the connection closed, timed out or the
  // server is stopping first. A client waits for its first request's first byte up to the request timeout, for
  // a next one up to the keep-alive wait; from its first byte a request must arrive whole within the request
  // timeout. "Expect: 100-continue" is answered once the head is read.
  asio::awaitable<bool> read_request(beast::tcp_stream& stream, RequestFramer& framer, bool first) {
    bool timing_request = framer.started();
    stream.expires_after(timing_request || first ? options.request_timeout : options.keep_alive_timeout);
    for (;;) {
      const RequestFramer::Progress progress = framer.parse();
      if (progress == RequestFramer::Progress::whole) co_return true;
      if (progress == RequestFramer::Progress::head) {
        const Request& head = framer.request();
        if (head.minor_version >= 1 && ascii_lowercase(head.header("expect")) == "100-continue") {  // any case (RFC 9110)
          auto [error, written] = co_await asio::async_write(stream, asio::buffer(kContinue), kUseTuple);
          if (error) co_return false;
        }
        continue;
      }
      if (stopping) co_return false;
      const std::span<char> room = framer.prepare(kReadBytes);
      auto [error, read] = co_await stream.async_read_some(asio::buffer(room.data(), room.size()), kUseTuple);
      framer.commit(read);
      if (error) co_return false;
      if (!timing_request && framer.started()) {
        timing_request = true;
        stream.expires_after(options.request_timeout);
      }
    }
  }

  // The answer, made on a worker while the loop watches the socket for the client going.
  asio::awaitable<Response> answer_on_worker(Request& request, tcp::socket& socket) {
    auto watch = std::make_shared<GoneWatch>(GoneWatch{.client_gone = request.client_gone});
    watch_for_gone(socket, watch);
    ++in_flight;
    answered_since_release = true;
    Response response = co_await asio::co_spawn(
        *workers, [this, &request]() -> asio::awaitable<Response> { co_return answer(request); }, asio::use_awaitable);
    --in_flight;
    watch->active = false;
    error_code ignored;
    socket.cancel(ignored);  // the watch's wait
    co_return response;
  }

  // Readable while a request is answered: a peek tells a closed or reset connection (nothing to read, or an
  // error) from a pipelined request's bytes (left for the framer).
  void watch_for_gone(tcp::socket& socket, std::shared_ptr<GoneWatch> watch) {
    socket.async_wait(tcp::socket::wait_read, [this, &socket, watch](const error_code& error) {
      if (error || !watch->active) return;
      char byte;
      const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) watch->client_gone->store(true);
      else if (n < 0) watch_for_gone(socket, watch);  // woken for nothing
    });
  }

  // After a burst, what its answers took goes back to the system once nothing is in flight for a moment: the
  // caches the server was given (options.release_memory: the tensors' allocator), then malloc's free memory in
  // every arena (the workers' answers are built in their threads' arenas, which glibc otherwise keeps).
  asio::awaitable<void> release_memory_when_idle() {
    while (!stopping) {
      idle_timer.expires_after(kIdleBeforeRelease);
      co_await idle_timer.async_wait(kUseTuple);
      if (stopping || in_flight > 0 || !answered_since_release) continue;
      answered_since_release = false;
      asio::post(*workers, [release = options.release_memory] {
        if (release) release();
        ::malloc_trim(0);
      });
    }
  }

  // After a refusal the client may still be sending (a body too large): stop writing, read what is in flight for a
  // moment, then close, so that the client reads the answer rather than a reset.
  asio::awaitable<void> drain_and_close(beast::tcp_stream& stream) {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(500ms);
    char sink[16 * 1024];
    for (size_t drained = 0; drained < (4u << 20);) {
      auto [error, read] = co_await stream.async_read_some(asio::buffer(sink), kUseTuple);
      if (error) break;
      drained += read;
    }
  }

  // On the loop's thread: no more connections; those not being answered close (an idle one, or one whose
  // request has not arrived whole: it is not in flight yet).
  void stop_now() {
    error_code ignored;
    acceptor.close(ignored);
    idle_timer.cancel();
    for (Open& connection : open)
      if (!connection.busy) connection.stream->cancel();
  }

  const ServerOptions options;
  const Answer answer;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  std::optional<asio::thread_pool> workers;
  std::list<Open> open;  // the loop's thread only
  asio::steady_timer idle_timer{io};
  int in_flight = 0;                    // requests being answered (the loop's thread only)
  bool answered_since_release = false;  // the loop's thread only
  size_t connection_limit = 0;
  std::atomic<bool> stopping = false;
};

Connections::Connections(const ServerOptions& options, Answer answer)
    : loop_(std::make_unique<Loop>(options, std::move(answer))) {}

Connections::~Connections() { stop(); }

int Connections::bind() {
  const ServerOptions& options = loop_->options;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    fail("cannot listen on {}:{}: not an address of this machine", options.host, options.port);
  for (addrinfo* a = found; a; a = a->ai_next) {
    const tcp protocol = a->ai_family == AF_INET6 ? tcp::v6() : tcp::v4();
    error_code error;
    tcp::acceptor& acceptor = loop_->acceptor;
    acceptor.open(protocol, error);
    if (error) continue;
    acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    tcp::endpoint endpoint;
    endpoint.resize(a->ai_addrlen);
    std::memcpy(endpoint.data(), a->ai_addr, a->ai_addrlen);
    acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (!error) break;
    acceptor.close(error);
  }
  ::freeaddrinfo(found);
  if (!loop_->acceptor.is_open())
    fail("cannot listen on {}:{} (in use, or not an address of this machine)", options.host, options.port);
  return loop_->acceptor.local_endpoint().port();
}

// glibc's malloc, set for a server whose answers come in bursts: fixed thresholds (by default a freed large block
// raises both, until each arena keeps megabytes at its top that malloc_trim does not return), and few arenas
// (by default eight per core, one per worker that ever ran).
void set_malloc_for_bursts() {
  ::mallopt(M_MMAP_THRESHOLD, 512 * 1024);  // larger blocks (answers, bodies) are mapped: freeing returns them
  ::mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  ::mallopt(M_ARENA_MAX, 2);
}

void Connections::serve() {
  Loop& loop = *loop_;
  if (!loop.acceptor.is_open()) fail("HttpServer::serve: bind() first");
  set_malloc_for_bursts();
  const size_t descriptors = raise_descriptor_limit();
  loop.connection_limit = std::min(loop.options.max_connections, descriptors > 256 ? descriptors - 128 : descriptors / 2);
  loop.workers.emplace(static_cast<size_t>(loop.options.threads));
  asio::co_spawn(loop.io, loop.accept_loop(), asio::detached);
  asio::co_spawn(loop.io, loop.release_memory_when_idle(), asio::detached);
  loop.io.run();
  loop.workers->join();
}

void Connections::stop() {
  if (loop_->stopping.exchange(true)) return;
  asio::post(loop_->io, [loop = loop_.get()] { loop->stop_now(); });
}

}  // namespace tg::serve
