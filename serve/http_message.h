#pragma once
// HTTP/1.1 messages as the servers read and write them (RFC 9112): the
// request a connection has read (serve/request_framer.h frames it), the answer
// and its bytes, and the helpers both use (ASCII lowercase, percent-decoding,
// dates). A refused request is an HttpError carrying its status.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/services/ascii.h"  // ascii_lowercase: header names, tokens, media types
#include "core/services/error.h"

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
  // "close"; HTTP/1.0 only when it lists "keep-alive"; RequestFramer refuses HTTP/1.0 with Transfer-Encoding).
  bool keep_alive() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type, Content-Length, Connection
};

// The status line, headers and body of an answer; keep_alive says which
// Connection header it carries; a HEAD request's answer has no body.
std::string serialize(const Response& response, bool keep_alive, bool head = false);
// `when` as HTTP writes dates (IMF-fixdate, RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::chrono::system_clock::time_point when);

// "Not Found" for 404, ...; "" for a status it does not know.
const char* reason_phrase(int status);


// %XX and (in a query or form) '+' decoded; a malformed escape is a 400 naming `what`.
std::string percent_decode(std::string_view text, bool plus_is_space, const char* what);

}  // namespace tg::serve
