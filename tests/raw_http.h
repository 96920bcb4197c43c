#pragma once
// What the HTTP tests share: an HttpServer with test routes on a free
// loopback port, and a client that writes raw bytes and reads raw answers
// (so that malformed and hostile requests reach the server as sent).
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "serve/http_server.h"

namespace raw_http {

using namespace tg::serve;
using nlohmann::json;


// An HttpServer on a free loopback port, serving on a thread of its own: POST /echo answers the fields it
// read (JSON or form, files by name and size), GET /hello a fixed answer, POST /raw the body's size.
class TestServer {
 public:
  // `more_routes` adds a test's own routes before the server starts.
  explicit TestServer(ServerOptions options = {}, const std::function<void(HttpServer&)>& more_routes = nullptr)
      : server_(with_free_port(std::move(options))) {
    server_.route("POST", "/echo", [](const Request&, const BodyFields& body) {
      json files = json::object();
      for (const FormPart& f : body.files)
        files[f.name] = {{"filename", f.filename}, {"bytes", f.value.size()}, {"content_type", f.content_type}};
      return json_response({{"fields", body.fields}, {"files", files}});
    }, {.body = BodyRead::json_or_form, .needs_key = true});
    server_.route("POST", "/raw", [](const Request& r, const BodyFields&) {
      return json_response({{"bytes", r.body.size()}});
    });
    server_.get_json("/hello", [] { return json{{"hello", "world"}}; });
    server_.route("GET", "/v1/models", [](const Request&, const BodyFields&) { return json_response({{"data", json::array()}}); },
                  {.needs_key = true});
    server_.route("GET", "/files/*", [](const Request& r, const BodyFields&) { return json_response({{"path", r.path}}); });
    if (more_routes) more_routes(server_);
    port_ = server_.bind();
    thread_ = std::thread([this] { server_.serve(); });
  }
  ~TestServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  HttpServer& server() { return server_; }

 private:
  static ServerOptions with_free_port(ServerOptions o) {
    o.port = 0;
    if (o.threads == ServerOptions{}.threads) o.threads = 4;
    return o;
  }
  HttpServer server_;
  int port_ = 0;
  std::thread thread_;
};

inline int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

// Sends `request` in one write (then half-closes when asked) and returns all the server writes until it
// closes, and whether it closed (rather than the 10 s receive timeout passing).
struct Exchange {
  std::string bytes;
  bool closed = false;
};
inline Exchange exchange(int port, const std::string& request, bool half_close = false) {
  const int fd = connect_to(port);
  REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  if (half_close) shutdown(fd, SHUT_WR);
  Exchange out;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) out.bytes.append(buffer, static_cast<size_t>(n));
  out.closed = n == 0;
  close(fd);
  return out;
}

// The answers in a stream of them: status and body of each.
struct Answer {
  int status = 0;
  std::string head;
  json body;
};
inline std::vector<Answer> answers_in(const std::string& bytes) {
  std::vector<Answer> out;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t head_end = bytes.find("\r\n\r\n", at);
    REQUIRE(head_end != std::string::npos);
    Answer a;
    a.head = bytes.substr(at, head_end - at);
    a.status = std::stoi(a.head.substr(9, 3));
    std::smatch m;
    REQUIRE(std::regex_search(a.head, m, std::regex("Content-Length: (\\d+)")));
    const size_t length = std::stoul(m[1]);
    a.body = json::parse(bytes.substr(head_end + 4, length), nullptr, false);
    out.push_back(a);
    at = head_end + 4 + length;
  }
  return out;
}

inline std::string post(const std::string& path, const std::string& body, const std::string& type = "application/json",
                 const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + type + "\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

}  // namespace raw_http
