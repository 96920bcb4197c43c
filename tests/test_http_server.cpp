// serve/: the HTTP/1.1 server the servers share, in process with routes of
// the test's own, met as hostile and ordinary clients meet it on loopback:
// pipelined requests, a half-closed connection, chunked bodies over the
// limit, malformed and conflicting framing (answered, then the connection
// closed), Expect: 100-continue, HEAD and 405, JSON, form and multipart
// bodies, the API key in each place it may come, the rate limit, OpenAI's
// error shape; and the message reader and the form parsers on their own.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "raw_http.h"
#include "serve/rate_limiter.h"
#include "serve/request_framer.h"
#include "serve/random_token.h"

using namespace tg::serve;
using nlohmann::json;
using namespace raw_http;


TEST_CASE("HTTP server: pipelined requests are answered in order, a half-closed client gets its answer") {
  TestServer server;
  // Five requests in one write, the last asking to close.
  std::string five;
  for (int i = 0; i < 4; ++i) five += post("/echo", json{{"n", i}}.dump());
  five += "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const Exchange e = exchange(server.port(), five);
  CHECK(e.closed);
  const std::vector<Answer> answers = answers_in(e.bytes);
  REQUIRE(answers.size() == 5);
  for (int i = 0; i < 4; ++i) CHECK(answers[i].body["fields"]["n"] == i);
  CHECK(answers[4].body["hello"] == "world");
  // Request, then shutdown(SHUT_WR): answered, then closed.
  const Exchange half = exchange(server.port(), post("/echo", "{\"q\": \"ein hund\"}"), true);
  REQUIRE(answers_in(half.bytes).size() == 1);
  CHECK(answers_in(half.bytes)[0].body["fields"]["q"] == "ein hund");
  CHECK(half.closed);
}

TEST_CASE("HTTP server: framing the server refuses is answered, then the connection closed") {
  ServerOptions options;
  options.max_body_bytes = 1000;
  TestServer server(options);
  auto refused = [&](const std::string& request, int status, const std::string& message) {
    CAPTURE(request.substr(0, 120));
    const Exchange e = exchange(server.port(), request + post("/echo", "{}"));  // a second request the server must not read
    CHECK(e.closed);
    const std::vector<Answer> answers = answers_in(e.bytes);
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].status == status);
    CHECK_MESSAGE(answers[0].body["error"].get<std::string>().find(message) != std::string::npos, answers[0].body.dump());
    CHECK(answers[0].head.find("Connection: close") != std::string::npos);
  };
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "Content-Length is not a length in bytes");
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, "two Content-Length headers that differ");
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
          "both Transfer-Encoding and Content-Length");
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "only chunked");
  // An empty Transfer-Encoding line first, chunked after it, and a Content-Length: one request, one answer.
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\nTransfer-Encoding: chunked\r\nContent-Length: 39\r\n\r\n"
          "0\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
          400, "both Transfer-Encoding and Content-Length");
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
          "only chunked, on one line");
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n", 501, "only chunked");
  refused("GARBAGE\r\n\r\n", 400, "malformed request line");
  // Host (RFC 9112 3.2): required of HTTP/1.1, one line, a host[:port]; its value reaches answers.
  refused("GET /hello HTTP/1.1\r\n\r\n", 400, "an HTTP/1.1 request without a Host header");
  refused("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host header");
  refused("GET /hello HTTP/1.1\r\nHost: x\"><script>\r\n\r\n", 400, "is not a host[:port]");
  // A control character in the path, sent or %-encoded, is refused, never echoed.
  refused("GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "the path holds a control character");
  refused("GET /a\x1b[2Jb HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line");
  // HTTP/1.0 with Transfer-Encoding: faulty framing (RFC 9112 6.1), refused and closed.
  refused("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n", 400,
          "Transfer-Encoding in an HTTP/1.0 request");
  refused("GET /hello HTTP/2.0\r\n\r\n", 505, "HTTP/1.1");
  refused("GET /hello HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400, "malformed header line");
  refused("GET /hello HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431, "longer than 16384 bytes");
  refused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413, "5000 bytes; the limit is 1000");
  // A chunked body is held to the same limit, refused when its chunks pass it, before the rest is read.
  std::string chunked = "POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) chunked += "100\r\n" + std::string(256, 'a') + "\r\n";
  refused(chunked + "0\r\n\r\n", 413, "chunks pass the limit of 1000 bytes");
  refused("POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "malformed chunk: expected a hexadecimal size line");
  // A chunked body under the limit, with an extension and a trailer, is read whole.
  const Exchange ok = exchange(server.port(), "POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                              "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
  REQUIRE(answers_in(ok.bytes).size() == 1);
  CHECK(answers_in(ok.bytes)[0].body["bytes"] == 11);
}

TEST_CASE("HTTP server: Expect 100-continue, HEAD, 404, 405 with Allow, prefix routes") {
  TestServer server;
  {
    const int fd = connect_to(server.port());
    const std::string head = "POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-Continue\r\n\r\n";
    REQUIRE(send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
    char buffer[256];
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    REQUIRE(n > 0);
    CHECK(std::string(buffer, static_cast<size_t>(n)) == "HTTP/1.1 100 Continue\r\n\r\n");
    REQUIRE(send(fd, "abcd", 4, MSG_NOSIGNAL) == 4);
    const ssize_t m = recv(fd, buffer, sizeof buffer, 0);
    REQUIRE(m > 0);
    CHECK(std::string(buffer, static_cast<size_t>(m)).find("{\"bytes\":4}") != std::string::npos);
    close(fd);
  }
  const Exchange head = exchange(server.port(), "HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(head.bytes.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.bytes.find("Content-Length: 17") != std::string::npos);
  CHECK(head.bytes.substr(head.bytes.size() - 4) == "\r\n\r\n");  // no body
  const auto one = [&](const std::string& request) {
    const std::vector<Answer> a = answers_in(exchange(server.port(), request).bytes);
    REQUIRE(a.size() == 1);
    return a[0];
  };
  const Answer missing = one("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(missing.status == 404);
  CHECK(missing.body["error"] == "no route GET /nothing");
  const Answer wrong = one("DELETE /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(wrong.status == 405);
  CHECK(wrong.head.find("Allow: POST") != std::string::npos);
  const Answer file = one("GET /files/a%20b.txt?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(file.body["path"] == "/files/a b.txt");
  // HTTP/1.0 closes unless asked to keep alive.
  CHECK(exchange(server.port(), "GET /hello HTTP/1.0\r\n\r\n").closed);
  // Connection is a list of tokens in any case: "Keep-Alive, Upgrade" keeps a 1.0 connection open, a token that
  // merely holds "close" does not close a 1.1 one; "CLOSE" does.
  // (A second request follows each: answered only if the connection stayed open.)
  const auto answered = [&](const std::string& request) {
    return answers_in(exchange(server.port(), request + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").bytes)
        .size();
  };
  CHECK(answered("GET /hello HTTP/1.0\r\nConnection: Keep-Alive, Upgrade\r\n\r\n") == 2);
  CHECK(answered("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: closed-captions\r\n\r\n") == 2);
  CHECK(answered("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n") == 1);
  // absolute-form (what a proxy sends): its authority stands for Host.
  const Answer absolute = one("GET http://example.org:8080/files/a?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n");
  CHECK(absolute.status == 200);
  CHECK(absolute.body["path"] == "/files/a");
  // Every answer carries Date (RFC 9110 6.6.1), in IMF-fixdate.
  CHECK(std::regex_search(head.bytes, std::regex("\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d [A-Z][a-z]{2} \\d{4} "
                                                 "\\d\\d:\\d\\d:\\d\\d GMT\r\n")));
  CHECK(tg::serve::http_date(std::chrono::system_clock::from_time_t(784111777)) == "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST_CASE("HTTP server: JSON, form and multipart bodies; another content type is 415") {
  TestServer server;
  const auto echo = [&](const std::string& body, const std::string& type) {
    const std::vector<Answer> a = answers_in(exchange(server.port(), post("/echo", body, type, "Connection: close\r\n")).bytes);
    REQUIRE(a.size() == 1);
    return a[0];
  };
  CHECK(echo("{\"q\": [\"a\", \"b\"]}", "application/json; charset=utf-8").body["fields"]["q"] == json({"a", "b"}));
  const Answer form = echo("q=ein+hund%21&q=%C3%A4&alternatives=2&empty=", "application/x-www-form-urlencoded; charset=UTF-8");
  CHECK(form.body["fields"]["q"] == json({"ein hund!", "\u00e4"}));
  CHECK(form.body["fields"]["alternatives"] == "2");
  CHECK(form.body["fields"]["empty"] == "");
  CHECK(echo("q=%zz", "application/x-www-form-urlencoded").status == 400);
  // Form text is UTF-8 as JSON's strings are (found by fuzz_serve_request: a message quoting it threw).
  const Answer not_utf8 = echo("q=ok&alternatives=%FF", "application/x-www-form-urlencoded");
  CHECK(not_utf8.status == 400);
  CHECK(not_utf8.body["error"] == "form field 2 is not UTF-8 (byte 0 of its value)");
  const std::string multipart =
      std::string("preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b.wav\"\r\nContent-Type: audio/wav\r\n\r\n") +
      std::string("RIFF\r\n--Xy\0bytes", 16) + "\r\n--XyZ--\r\nepilogue";
  const Answer parts = echo(multipart, "multipart/form-data; boundary=\"XyZ\"");
  CHECK(parts.status == 200);
  CHECK(parts.body["fields"]["model"] == "whisper-1");
  CHECK(parts.body["files"]["file"]["filename"] == "a;b.wav");
  CHECK(parts.body["files"]["file"]["content_type"] == "audio/wav");
  CHECK(parts.body["files"]["file"]["bytes"] == 16);
  // filename="" is still a file (a browser sends it for a blob): its bytes are not read as a text field.
  const Answer unnamed = echo("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\xff\xfeRIFF\r\n--XyZ--\r\n",
                              "multipart/form-data; boundary=XyZ");
  CHECK(unnamed.status == 200);
  CHECK(unnamed.body["files"]["file"]["bytes"] == 6);
  CHECK(unnamed.body["files"]["file"]["filename"] == "");
  const Answer unclosed = echo("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", "multipart/form-data; boundary=XyZ");
  CHECK(unclosed.status == 400);
  CHECK(unclosed.body["error"] == "multipart part 'a' is not closed by its boundary");
  CHECK(echo("x", "multipart/form-data").body["error"].get<std::string>().find("needs a boundary") != std::string::npos);
  const Answer text = echo("hallo", "text/plain");
  CHECK(text.status == 415);
  CHECK(text.body["error"].get<std::string>().find("got 'text/plain'") != std::string::npos);
}

TEST_CASE("HTTP server: the API key from the body, X-API-Key or Bearer; OpenAI's error shape; the rate limit") {
  ServerOptions options;
  options.api_key = "s3cret";
  options.rate_limit_per_minute = 7;
  TestServer server(options);
  const auto status_of = [&](const std::string& request) {
    const std::vector<Answer> a = answers_in(exchange(server.port(), request).bytes);
    REQUIRE(a.size() == 1);
    return a[0];
  };
  const Answer none = status_of(post("/echo", "{}", "application/json", "Connection: close\r\n"));
  CHECK(none.status == 403);
  CHECK(none.body["error"].get<std::string>().find("an API key is required") == 0);
  CHECK(status_of(post("/echo", "{\"api_key\": \"guess\"}", "application/json", "Connection: close\r\n")).status == 403);
  CHECK(status_of(post("/echo", "{\"api_key\": \"s3cret\"}", "application/json", "Connection: close\r\n")).status == 200);
  CHECK(status_of(post("/echo", "api_key=s3cret", "application/x-www-form-urlencoded", "Connection: close\r\n")).status == 200);
  CHECK(status_of(post("/echo", "{}", "application/json", "X-API-Key: s3cret\r\nConnection: close\r\n")).status == 200);
  CHECK(status_of(post("/echo", "{}", "application/json", "Authorization: Bearer s3cret\r\nConnection: close\r\n")).status == 200);
  // Under /v1/: 401 and OpenAI's {"error": {"message", "type", "code"}}.
  const Answer openai = status_of("GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nConnection: close\r\n\r\n");
  CHECK(openai.status == 401);
  CHECK(openai.body["error"]["message"] == "invalid API key");
  CHECK(openai.body["error"]["type"] == "authentication_error");
  CHECK(openai.body["error"]["code"] == "invalid_api_key");
  // The scheme in any case (RFC 9110 11.1), and ?api_key= as LibreTranslate reads it.
  CHECK(status_of(post("/echo", "{}", "application/json", "Authorization: bearer s3cret\r\nConnection: close\r\n")).status == 200);
  CHECK(status_of(post("/echo?api_key=s3cret", "{}", "application/json", "Connection: close\r\n")).status == 200);
  CHECK(status_of(post("/echo?api_key=nope", "{}", "application/json", "Connection: close\r\n")).status == 403);
}

TEST_CASE("HTTP server: the key is checked before the rate limit; the key holder's minute is the key's") {
  ServerOptions options;
  options.api_key = "s3cret";
  options.rate_limit_per_minute = 3;
  TestServer server(options);
  const auto ask = [&](const std::string& body) {
    const std::vector<Answer> a =
        answers_in(exchange(server.port(), post("/echo", body, "application/json", "Connection: close\r\n")).bytes);
    REQUIRE(a.size() == 1);
    return a[0];
  };
  // Keyless requests from this address (behind a proxy: from anyone) use up the address's minute, not the key's.
  for (int i = 0; i < 3; ++i) CHECK(ask("{}").status == 403);
  const Answer guessing = ask("{\"api_key\": \"guess\"}");
  CHECK(guessing.status == 429);
  CHECK(guessing.body["error"].get<std::string>().find("per client without the key") != std::string::npos);
  // The key holder, from the same address, is still answered: three times, then 429 with Retry-After.
  for (int i = 0; i < 3; ++i) CHECK(ask("{\"api_key\": \"s3cret\"}").status == 200);
  const Answer limited = ask("{\"api_key\": \"s3cret\"}");
  CHECK(limited.status == 429);
  CHECK(limited.head.find("Retry-After: ") != std::string::npos);
  CHECK(limited.body["error"].get<std::string>().find("the limit is 3 a minute per API key") != std::string::npos);
  const std::vector<Answer> open = answers_in(exchange(server.port(), "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").bytes);
  REQUIRE(open.size() == 1);
  CHECK(open[0].status == 200);  // routes without a key are not counted
}

TEST_CASE("rate limiter: a sliding minute per client; old requests leave without a scan of every client") {
  tg::serve::RateLimiter limiter(2);
  const auto start = tg::serve::RateLimiter::Clock::now();
  CHECK(limiter.wait_seconds("a", start) == 0);
  CHECK(limiter.wait_seconds("a", start + std::chrono::seconds(10)) == 0);
  CHECK(limiter.wait_seconds("a", start + std::chrono::seconds(20)) == 41);  // the first leaves at 60 s
  CHECK(limiter.wait_seconds("b", start + std::chrono::seconds(20)) == 0);
  for (int i = 0; i < 40000; ++i) CHECK_FALSE(limiter.wait_seconds(std::to_string(i) + "c", start + std::chrono::seconds(30)));
  CHECK(limiter.clients() == 40002);
  CHECK(limiter.wait_seconds("a", start + std::chrono::seconds(60)) == 0);  // the first has left
  CHECK(limiter.clients() == 40002);
  CHECK(limiter.wait_seconds("a", start + std::chrono::seconds(91)) == 0);  // all of the first 31 s have left
  CHECK(limiter.clients() == 1);  // b and every c gone; a has its two of the last minute
  CHECK(limiter.wait_seconds("a", start + std::chrono::seconds(92)) == 29);
}

TEST_CASE("HTTP server: a slow client is dropped after the request timeout; stop() with a kept-alive idle client") {
  ServerOptions options;
  options.request_timeout = std::chrono::seconds(1);
  options.keep_alive_timeout = std::chrono::seconds(30);
  auto server = std::make_unique<TestServer>(options);
  const int fd = connect_to(server->port());
  const std::string request = "POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  bool dropped = false;
  for (const char c : request) {
    if (send(fd, &c, 1, MSG_NOSIGNAL) != 1) {
      dropped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  char byte;
  if (!dropped) dropped = recv(fd, &byte, 1, 0) <= 0;
  CHECK(dropped);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5);
  close(fd);
  // A kept-alive connection waiting for its next request does not hold stop() for the 30 s keep-alive.
  const int idle = connect_to(server->port());
  const std::string hello = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(send(idle, hello.data(), hello.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(hello.size()));
  char buffer[512];
  REQUIRE(recv(idle, buffer, sizeof buffer, 0) > 0);
  const auto stopping = std::chrono::steady_clock::now();
  server.reset();
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count() < 3);
  close(idle);
}

TEST_CASE("HTTP server: CORS behind cors_origin: the header on every answer, OPTIONS as a preflight") {
  {
    TestServer plain;  // off by default: no header, OPTIONS is a method no route answers
    const std::vector<Answer> a = answers_in(exchange(plain.port(), "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").bytes);
    REQUIRE(a.size() == 1);
    CHECK(a[0].head.find("Access-Control") == std::string::npos);
    CHECK(answers_in(exchange(plain.port(), "OPTIONS /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").bytes)[0].status == 405);
  }
  ServerOptions options;
  options.cors_origin = "https://pages.example";
  TestServer server(options);
  const Exchange preflight = exchange(server.port(), "OPTIONS /echo HTTP/1.1\r\nHost: x\r\nOrigin: https://pages.example\r\n"
                                                     "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
  CHECK(preflight.bytes.rfind("HTTP/1.1 204 No Content\r\n", 0) == 0);
  CHECK(preflight.bytes.find("Content-Length") == std::string::npos);  // a 204 has none
  CHECK(preflight.bytes.find("Access-Control-Allow-Origin: https://pages.example\r\n") != std::string::npos);
  CHECK(preflight.bytes.find("Access-Control-Allow-Methods: POST\r\n") != std::string::npos);
  CHECK(preflight.bytes.find("Access-Control-Allow-Headers: Content-Type, Authorization, X-API-Key\r\n") != std::string::npos);
  const std::vector<Answer> answered = answers_in(exchange(server.port(), post("/echo", "{}", "application/json", "Connection: close\r\n")).bytes);
  REQUIRE(answered.size() == 1);
  CHECK(answered[0].head.find("Access-Control-Allow-Origin: https://pages.example") != std::string::npos);
  const std::vector<Answer> missing = answers_in(exchange(server.port(), "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").bytes);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].status == 404);
  CHECK(missing[0].head.find("Access-Control-Allow-Origin") != std::string::npos);  // errors too: a page can read them
}

TEST_CASE("HTTP server: an answer larger than max_response_bytes is replaced by a 400 saying so") {
  ServerOptions options;
  options.max_response_bytes = 2000;
  TestServer server(options);
  const auto echo = [&](size_t bytes) {
    const std::string body = "{\"q\": \"" + std::string(bytes, 'a') + "\"}";
    const std::vector<Answer> a = answers_in(exchange(server.port(), post("/echo", body, "application/json", "Connection: close\r\n")).bytes);
    REQUIRE(a.size() == 1);
    return a[0];
  };
  CHECK(echo(1000).status == 200);
  const Answer big = echo(3000);
  CHECK(big.status == 400);
  CHECK(big.body["error"].get<std::string>().find("the limit is 2000 (--max-response-bytes)") != std::string::npos);
}

TEST_CASE("HTTP server: stop() does not wait for slow clients whose requests have not arrived whole") {
  ServerOptions options;
  options.threads = 1;  // one at a time: each slow client would have cost its request timeout
  options.request_timeout = std::chrono::seconds(5);
  auto server = std::make_unique<TestServer>(options);
  std::vector<int> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(connect_to(server->port()));
    const std::string part = "POST /raw HTTP/1.1\r\nHost: x\r\nContent-Le";
    REQUIRE(send(slow.back(), part.data(), part.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(part.size()));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the first is being read
  const auto stopping = std::chrono::steady_clock::now();
  server.reset();
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count() < 2);  // was 20 x 5 s
  for (const int fd : slow) close(fd);
}

TEST_CASE("RequestFramer: requests cut anywhere read the same; a request ending early is not whole") {
  const std::string two = "POST /a?x=1&y=%C3%A4 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                          "\r\nGET /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
  for (size_t chunk : {1, 2, 7, 4096}) {
    CAPTURE(chunk);
    RequestFramer framer(100);
    std::vector<Request> read;
    for (size_t at = 0; at < two.size(); at += chunk) {
      framer.append(std::string_view(two).substr(at, chunk));
      for (RequestFramer::Progress p; (p = framer.parse()) != RequestFramer::Progress::need_more;)
        if (p == RequestFramer::Progress::whole) {
          read.push_back(framer.request());
          framer.next();
        }
    }
    REQUIRE(read.size() == 2);
    CHECK(read[0].method == "POST");
    CHECK(read[0].path == "/a");
    CHECK(read[0].query.at("y") == "\u00e4");
    CHECK(read[0].header("host") == "x");
    CHECK(read[0].body == "abc");
    CHECK(read[1].path == "/b");  // the empty line between requests is skipped
    CHECK(read[1].body == "hi");
    CHECK_FALSE(framer.started());
  }
  // An obsolete folded line is read as one value, its fold a space (RFC 9112 5.2 allows that or a 400).
  RequestFramer folded(100);
  folded.append("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n");
  REQUIRE(folded.parse() == RequestFramer::Progress::whole);
  CHECK(folded.request().header("x") == "a b");
  RequestFramer cut(100);
  cut.append("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  CHECK(cut.parse() == RequestFramer::Progress::head);
  CHECK(cut.parse() == RequestFramer::Progress::need_more);
  CHECK(cut.started());
}

TEST_CASE("form parsers: parameters quoted and not, fields given twice, files apart") {
  CHECK(header_parameter("multipart/form-data; boundary=abc", "boundary") == "abc");
  CHECK(header_parameter("form-data; name=\"a\\\"b\"; filename=\"x;y.wav\"", "filename") == "x;y.wav");
  CHECK(header_parameter("form-data; name=\"a\\\"b\"; filename=\"x;y.wav\"", "name") == "a\"b");
  CHECK(header_parameter("text/plain; charset", "charset").empty());
  CHECK(media_type(" Application/JSON ; charset=utf-8") == "application/json");
  const BodyFields fields = parse_body_fields("a=1&b=2&a=3", "application/x-www-form-urlencoded", BodyKinds::json_or_form);
  CHECK(fields.fields == json{{"a", {"1", "3"}}, {"b", "2"}});
  CHECK_THROWS_AS(parse_body_fields("a=1", "application/x-www-form-urlencoded", BodyKinds::json), HttpError);
}

TEST_CASE("random_token: hex from the kernel's generator, every digit equally likely in every place") {
  CHECK(tg::serve::random_token(16).size() == 32);
  CHECK(tg::serve::random_token(3).size() == 6);
  // 4096 tokens of 16 bytes: all distinct; each of the 16 digits in each of the 32 places about 256 times.
  std::set<std::string> seen;
  std::vector<std::array<int, 16>> counts(32);
  for (int i = 0; i < 4096; ++i) {
    const std::string t = tg::serve::random_token(16);
    REQUIRE(t.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(t);
    for (size_t p = 0; p < t.size(); ++p) ++counts[p][t[p] <= '9' ? t[p] - '0' : t[p] - 'a' + 10];
  }
  CHECK(seen.size() == 4096);
  // A place's 16 counts: chi-square with 15 degrees of freedom; 60 is beyond its 1e-6 tail.
  for (const auto& place : counts) {
    double chi2 = 0;
    for (const int c : place) chi2 += (c - 256.0) * (c - 256.0) / 256.0;
    CHECK(chi2 < 60);
  }
}
