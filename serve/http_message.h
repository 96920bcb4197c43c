#pragma once
// HTTP/1.1 messages as the servers read and write them (RFC 9112), apart
// from sockets so that tests and the fuzz target reach every path: a request
// is read from a ByteSource (a socket, or a string), its body framed by
// Content-Length or chunked transfer coding; an answer is written as bytes.
//
// What a request may not do, each a HttpError with its status:
//   - a head (request line and headers) over kMaxHeadBytes: 431;
//   - a malformed request line or header, a Content-Length that is not one
//     decimal number (or two that differ), Content-Length with chunked: 400;
//   - a transfer coding other than chunked: 501;
//   - a body over max_body_bytes, however it is framed: 413, before it is read.
// A refused request ends its connection: after a framing error the next
// request's first byte is not known.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tg::serve {

// A request the server refuses: HTTP status and a message for the error body.
class HttpError : public Error {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // `headers` go out with the error answer (a 429's Retry-After).
  HttpError(int status, const std::string& message, Headers headers = {})
      : Error(message), status_(status), headers_(std::move(headers)) {}
  int status() const { return status_; }
  const Headers& headers() const { return headers_; }

 private:
  int status_;
  Headers headers_;
};

constexpr size_t kMaxHeadBytes = 16 * 1024;
constexpr size_t kMaxHeaders = 100;

struct Request {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // the target before '?', percent-decoded
  std::map<std::string, std::string> query;           // the target's ?a=b&c=d, decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, values trimmed
  int minor_version = 1;                               // HTTP/1.x
  std::string body;                                    // de-chunked
  std::string remote_address;                          // the client's, as the server accepted it
  std::string target_authority;                        // host[:port] of an absolute-form target, else ""
  // Set by the server once the client has gone (closed or reset) before its answer: work for it can be dropped.
  std::shared_ptr<std::atomic<bool>> client_gone = std::make_shared<std::atomic<bool>>(false);

  // The first value of header `name` (lowercase), or "".
  std::string header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
  // Whether header `name`'s comma-separated list (every line of it) holds `token` (lowercase), in any case.
  bool has_token(std::string_view name, std::string_view token) const;
  // Whether the connection stays open after this request's answer (HTTP/1.1 unless Connection lists
  // "close"; HTTP/1.0 only when it lists "keep-alive"; RequestReader refuses HTTP/1.0 with Transfer-Encoding).
  bool keep_alive() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type, Content-Length, Connection
};

// Where a request's bytes come from. fill() appends at least one byte to
// `buffer`, or returns false at the end of the stream (or a timeout).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual bool fill(std::string& buffer) = 0;
};

// The bytes of a string, `chunk` at a time (a socket's reads arrive in pieces).
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string_view bytes, size_t chunk = 4096) : bytes_(bytes), chunk_(chunk) {}
  bool fill(std::string& buffer) override;

 private:
  std::string_view bytes_;
  size_t chunk_;
};

// Reads requests off one connection; bytes past a request (a pipelined next
// one) stay buffered for the next read.
class RequestReader {
 public:
  RequestReader(ByteSource& source, size_t max_body_bytes) : source_(source), max_body_bytes_(max_body_bytes) {}
  // The next request into `request`; false when the stream ends before its
  // first byte. Throws HttpError (above) for a request it refuses, and Error
  // when the stream ends inside a request. `before_body` runs once the head is
  // read, before a body is waited for (the server answers "Expect: 100-continue" there).
  bool read(Request& request, const std::function<void(const Request&)>& before_body = nullptr);
  // Whether bytes of a next request are already here.
  bool has_buffered() const { return position_ < buffer_.size(); }

 private:
  bool more();                      // one fill(); drops consumed bytes first
  std::string_view line(size_t max);  // up to CRLF (or LF), consumed; throws past max
  void read_fixed_body(Request& request, uint64_t length);
  void read_chunked_body(Request& request);

  ByteSource& source_;
  size_t max_body_bytes_;
  std::string buffer_;
  size_t position_ = 0;
};

// The status line, headers and body of an answer; keep_alive says which
// Connection header it carries; a HEAD request's answer has no body.
std::string serialize(const Response& response, bool keep_alive, bool head = false);
// `when` as HTTP writes dates (IMF-fixdate, RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::chrono::system_clock::time_point when);

// "Not Found" for 404, ...; "" for a status it does not know.
const char* reason_phrase(int status);

// ASCII letters lowered (header names and tokens, media types, parameters: case-insensitive in HTTP).
std::string lowercase(std::string_view text);

// %XX and (in a query or form) '+' decoded; a malformed escape is a 400 naming `what`.
std::string percent_decode(std::string_view text, bool plus_is_space, const char* what);

}  // namespace tg::serve
