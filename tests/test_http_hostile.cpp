// serve/ against hostile clients on loopback, one class of attack a case:
// idle and slow connections that once shut everyone else out (a normal
// client must be answered within 1 s of asking), the request-smuggling
// framings of RFC 9112 section 6 (one request, one answer, never a second
// read from a body), more connections than allowed, and clients that go
// away while their request is answered.
#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "raw_http.h"

using namespace raw_http;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A kept-alive GET /hello on `fd`; true when its answer came.
bool hello_on(int fd) {
  const std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return false;
  std::string got;
  char buffer[512];
  while (got.find("{\"hello\":\"world\"}") == std::string::npos) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    got.append(buffer, static_cast<size_t>(n));
  }
  return true;
}

// How long a new client waits for GET /hello's answer (it must come).
double normal_client_seconds(int port) {
  const auto start = Clock::now();
  const std::vector<Answer> a =
      answers_in(exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").bytes);
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 200);
  return seconds_since(start);
}

}  // namespace

TEST_CASE("hostile clients: 150 idle and 64 slow connections, and a normal client is answered within 1 s") {
  ServerOptions options;
  options.threads = 2;  // fewer workers than attackers: connections must not hold them
  TestServer server(options);
  std::vector<int> idle, slow, chatty;
  for (int i = 0; i < 150; ++i) idle.push_back(connect_to(server.port()));  // connected, never a byte
  for (int i = 0; i < 64; ++i) {  // a request's first bytes, the rest never
    slow.push_back(connect_to(server.port()));
    const std::string part = "POST /raw HTTP/1.1\r\nHost: x\r\nContent-Le";
    REQUIRE(send(slow.back(), part.data(), part.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(part.size()));
  }
  for (int i = 0; i < 64; ++i) {  // kept alive, a request every so often (the trial's GET /health every 3 s)
    chatty.push_back(connect_to(server.port()));
    REQUIRE(hello_on(chatty.back()));
  }
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    CHECK(normal_client_seconds(server.port()) < 1.0);
    for (const int fd : chatty) CHECK(hello_on(fd));
  }
  for (const auto* fds : {&idle, &slow, &chatty})
    for (const int fd : *fds) close(fd);
}

TEST_CASE("hostile clients: with 500 idle connections open a normal client is answered within 1 s") {
  // Both ends of each connection are this process's files: 500 of them need more than the usual soft limit of
  // 1024, so the soft limit goes up to the hard one (as the server does); below that, as many as fit.
  rlimit files{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  const int count = static_cast<int>(std::min<rlim_t>(500, (files.rlim_max - 256) / 2));
  if (count < 500) MESSAGE("only ", count, " idle connections: the hard limit on open files is ", files.rlim_max);
  TestServer server;
  std::vector<int> idle;
  for (int i = 0; i < count; ++i) idle.push_back(connect_to(server.port()));
  for (int round = 0; round < 3; ++round) CHECK(normal_client_seconds(server.port()) < 1.0);
  for (const int fd : idle) close(fd);
}

TEST_CASE("hostile clients: past max_connections a connection is closed at once, and the others still served") {
  ServerOptions options;
  options.max_connections = 8;
  TestServer server(options);
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(connect_to(server.port()));
    REQUIRE(hello_on(held.back()));  // accepted and served before the next one
  }
  const int extra = connect_to(server.port());
  char byte;
  CHECK(recv(extra, &byte, 1, 0) == 0);  // closed, not left waiting
  close(extra);
  CHECK(hello_on(held[0]));
  close(held.back());
  held.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server sees the close
  CHECK(normal_client_seconds(server.port()) < 1.0);
  for (const int fd : held) close(fd);
}

TEST_CASE("hostile clients: the smuggling framings of RFC 9112 section 6 get one answer and a closed connection") {
  ServerOptions options;
  options.max_body_bytes = 1000;
  TestServer server(options);
  // Each is followed by a request that must never be read: a framing the server and a proxy could read
  // differently is refused (its status one of those listed), and the connection closed.
  const std::string smuggled = "GET /files/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  struct Case {
    std::string request;
    std::vector<int> statuses;
  };
  const std::vector<Case> cases = {
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", {501}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", {501}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400, 501}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", {501}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nabcdef", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nabcde", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nabcde", {400}},
      {"POST /raw HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", {400, 413}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;" + std::string(20000, 'e') + "\r\nabc\r\n0\r\n\r\n",
       {400, 413, 431}},
      {"POST /raw HTTP/1.1\nHost: x\nContent-Length: 5\n\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nX: a\rContent-Length: 5\r\n\r\n", {400}},
      {"POST /raw HTTP/1.1\r\nHost: x\r\nX: a\0b\r\nContent-Length: 5\r\n\r\n", {400}},
      {" POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", {400}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.request.substr(0, 100));
    const Exchange e = exchange(server.port(), c.request + smuggled);
    CHECK(e.closed);
    CHECK(e.bytes.find("smuggled") == std::string::npos);
    const std::vector<Answer> answers = answers_in(e.bytes);
    REQUIRE(answers.size() == 1);
    CHECK(std::find(c.statuses.begin(), c.statuses.end(), answers[0].status) != c.statuses.end());
    CHECK(answers[0].head.find("Connection: close") != std::string::npos);
  }
  // Framings that are sound are read as such: chunked with a trailer, then the pipelined request is a request.
  const Exchange sound = exchange(server.port(), "POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                 "3\r\nabc\r\n0\r\nX-Trailer: y\r\n\r\n" + smuggled +
                                                 "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::vector<Answer> answers = answers_in(sound.bytes);
  REQUIRE(answers.size() == 3);
  CHECK(answers[0].body["bytes"] == 3);
  CHECK(answers[1].body["path"] == "/files/smuggled");
  CHECK(answers[2].status == 200);
}

TEST_CASE("hostile clients: a client that resets or closes while answered is seen gone; its answer is dropped") {
  std::atomic<int> seen_gone = 0;
  std::atomic<int> started = 0;
  const auto routes = [&](HttpServer& server) {
    // Works until its client goes (at most ?seconds=, 5 by default), as a queued translation would be dropped.
    server.route("POST", "/work", [&](const Request& request, const BodyFields&) {
      ++started;
      const auto start = Clock::now();
      const double limit = request.query.contains("seconds") ? std::stod(request.query.at("seconds")) : 5.0;
      while (!request.client_gone->load() && seconds_since(start) < limit)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (request.client_gone->load()) ++seen_gone;
      return json_response({{"gone", request.client_gone->load()}});
    });
  };
  TestServer server({}, routes);
  const auto send_work = [&](bool reset) {
    const int fd = connect_to(server.port());
    const std::string request = post("/work", "{}");
    REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    const int before = started.load();
    while (started.load() == before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (reset) {
      const linger abort{1, 0};  // close with RST
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    close(fd);
  };
  const auto start = Clock::now();
  send_work(true);
  send_work(false);
  while (seen_gone.load() < 2 && seconds_since(start) < 10) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(seen_gone.load() == 2);
  CHECK(seconds_since(start) < 4);  // not the handlers' 5 s each
  // A client that stays, with a pipelined request behind (bytes to read, not a close), is not seen gone.
  const std::vector<Answer> stayed = answers_in(
      exchange(server.port(), post("/work?seconds=0.3", "{}") + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").bytes);
  REQUIRE(stayed.size() == 2);
  CHECK(stayed[0].body["gone"] == false);
  CHECK(stayed[1].status == 200);
  CHECK(seen_gone.load() == 2);
}
