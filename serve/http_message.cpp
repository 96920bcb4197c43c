#include "serve/http_message.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace tg::serve {

namespace {

constexpr size_t kMaxChunkLine = 1024;  // a chunk's size line (with extensions) or a trailer line

bool is_token_char(char c) {  // RFC 9110 tchar: what a method or a header name is made of
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A quoted sample of what was sent, for a message (at most 40 bytes).
std::string sample(std::string_view s) {
  return s.size() <= 40 ? fmt::format("'{}'", s) : fmt::format("'{}...'", s.substr(0, 40));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void parse_request_line(std::string_view line, Request& request) {
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last)
    throw HttpError(400, fmt::format("malformed request line {}: expected METHOD TARGET HTTP/1.1", sample(line)));
  const std::string_view method = line.substr(0, first), target = line.substr(first + 1, last - first - 1),
                         version = line.substr(last + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_token_char))
    throw HttpError(400, fmt::format("malformed request line: method {}", sample(method)));
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || !std::isdigit(static_cast<unsigned char>(version[7])))
    throw HttpError(version.substr(0, 5) == "HTTP/" ? 505 : 400,
                    fmt::format("malformed request line: version {} (this server speaks HTTP/1.1)", sample(version)));
  std::string_view path_and_query = target;
  // absolute-form (RFC 9112 3.2.2, what a proxy sends): the authority stands for Host.
  for (const std::string_view scheme : {"http://", "https://"})
    if (lowercase(target.substr(0, scheme.size())) == scheme) {
      const std::string_view rest = target.substr(scheme.size());
      const size_t slash = rest.find_first_of("/?");
      request.target_authority = rest.substr(0, slash);
      if (request.target_authority.empty())
        throw HttpError(400, fmt::format("malformed request line: target {} names no host", sample(target)));
      path_and_query = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      if (path_and_query.front() == '?') throw HttpError(400, fmt::format("malformed request line: target {}", sample(target)));
    }
  if (path_and_query.empty() || path_and_query.front() != '/' || path_and_query.find_first_of(" \t") != std::string_view::npos)
    throw HttpError(400, fmt::format("malformed request line: target {} (expected a path from /)", sample(target)));
  request.method = method;
  request.minor_version = version[7] - '0';
  const size_t question = path_and_query.find('?');
  request.path = percent_decode(path_and_query.substr(0, question), false, "the path");
  // A control character in the path (sent, or %-encoded) is never a route's; refusing it keeps it out of every
  // message that quotes the path.
  if (std::any_of(request.path.begin(), request.path.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    throw HttpError(400, "malformed request line: the path holds a control character");
  if (question != std::string_view::npos) {
    std::string_view query = path_and_query.substr(question + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const size_t eq = pair.find('=');
      if (!pair.empty())
        request.query.emplace(percent_decode(pair.substr(0, eq), true, "the query"),
                              eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true, "the query"));
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }
}

void parse_header_line(std::string_view line, Request& request) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw HttpError(400, fmt::format("malformed header line {}: expected Name: value", sample(line)));
  const std::string_view name = line.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), is_token_char))  // includes "Name :", which RFC 9112 refuses
    throw HttpError(400, fmt::format("malformed header name {}", sample(name)));
  const std::string_view value = trim(line.substr(colon + 1));
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    throw HttpError(400, fmt::format("header {} holds a control character", sample(name)));
  if (request.headers.size() == kMaxHeaders)
    throw HttpError(431, fmt::format("more than {} header lines", kMaxHeaders));
  request.headers.emplace_back(lowercase(name), std::string(value));
}

// The body's length from Content-Length: one decimal number, or the same number each time it is given.
uint64_t content_length(const Request& request) {
  uint64_t length = 0;
  bool seen = false;
  for (const auto& [name, value] : request.headers) {
    if (name != "content-length") continue;
    if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), ::isdigit))
      throw HttpError(400, fmt::format("Content-Length {} is not a length in bytes", sample(value)));
    const uint64_t n = std::stoull(value);
    if (seen && n != length) throw HttpError(400, "two Content-Length headers that differ");
    length = n;
    seen = true;
  }
  return length;
}

// Host (RFC 9112 3.2): one line, a host[:port] as URIs write it, required of HTTP/1.1; the target's authority
// stands for it in absolute-form. Its value reaches answers (a file's download URL), so only the characters
// of a name, an IPv4 or a bracketed IPv6 address and a port pass.
void check_host(const Request& request) {
  const size_t lines = request.header_count("host");
  if (lines > 1) throw HttpError(400, "more than one Host header");
  if (lines == 0 && request.minor_version >= 1 && request.target_authority.empty())
    throw HttpError(400, "an HTTP/1.1 request without a Host header");
  const std::string host = request.target_authority.empty() ? request.header("host") : request.target_authority;
  const bool allowed = std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("-._~:[]").find(static_cast<char>(c)) != std::string_view::npos;
  });
  if (!allowed || host.size() > 255) throw HttpError(400, fmt::format("Host {} is not a host[:port]", sample(host)));
}

}  // namespace

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "";
}

size_t Request::header_count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; }));
}

bool Request::has_token(std::string_view name, std::string_view token) const {
  for (const auto& [n, v] : headers) {
    if (n != name) continue;
    std::string_view list = v;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      if (lowercase(trim(list.substr(0, comma))) == token) return true;
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  return false;
}

bool Request::keep_alive() const {
  if (minor_version == 0) return has_token("connection", "keep-alive");
  return !has_token("connection", "close");
}

bool StringSource::fill(std::string& buffer) {
  if (bytes_.empty()) return false;
  const size_t n = std::min(chunk_, bytes_.size());
  buffer.append(bytes_.substr(0, n));
  bytes_.remove_prefix(n);
  return true;
}

bool RequestReader::more() {
  if (position_ > 0) {  // what was consumed goes; a pipelined request's bytes stay
    buffer_.erase(0, position_);
    position_ = 0;
  }
  return source_.fill(buffer_);
}

std::string_view RequestReader::line(size_t max) {
  size_t searched = position_;
  for (;;) {
    const size_t lf = buffer_.find('\n', searched);
    if (lf != std::string::npos) {
      if (lf - position_ > max) break;
      std::string_view text(buffer_.data() + position_, lf - position_);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      position_ = lf + 1;
      return text;
    }
    if (buffer_.size() - position_ > max) break;
    searched = buffer_.size();
    const size_t offset = position_;
    if (!more()) fail("the connection closed inside a request");
    searched -= offset;  // more() moved the unread bytes to the front
  }
  throw HttpError(max == kMaxChunkLine ? 400 : 431,
                  max == kMaxChunkLine ? fmt::format("a chunk line longer than {} bytes", kMaxChunkLine)
                                       : fmt::format("a request head longer than {} bytes", kMaxHeadBytes));
}

bool RequestReader::read(Request& request, const std::function<void(const Request&)>& before_body) {
  request = Request{};
  // Empty lines before a request line are allowed (RFC 9112 2.2); the stream may end cleanly before one.
  size_t head_bytes = 0;
  for (;;) {
    if (position_ == buffer_.size() && !more()) return false;
    const std::string_view first = line(kMaxHeadBytes);
    head_bytes += first.size() + 2;
    if (!first.empty()) {
      parse_request_line(first, request);
      break;
    }
    if (head_bytes > kMaxHeadBytes) throw HttpError(431, fmt::format("a request head longer than {} bytes", kMaxHeadBytes));
  }
  for (;;) {
    const std::string_view header = line(kMaxHeadBytes);
    head_bytes += header.size() + 2;
    if (head_bytes > kMaxHeadBytes) throw HttpError(431, fmt::format("a request head longer than {} bytes", kMaxHeadBytes));
    if (header.empty()) break;
    if (header.front() == ' ' || header.front() == '\t')
      throw HttpError(400, "a folded header line (obsolete line folding is refused)");
    parse_header_line(header, request);
  }
  check_host(request);
  const uint64_t length = content_length(request);
  // Any Transfer-Encoding line, an empty one included, decides the framing (RFC 9112 6.3): an empty
  // first line beside a later "chunked" must not leave the body to Content-Length.
  const bool has_coding = request.header_count("transfer-encoding") > 0;
  const std::string coding = lowercase(request.header("transfer-encoding"));
  if (has_coding) {
    // An HTTP/1.0 message with Transfer-Encoding has faulty framing (RFC 9112 6.1): refused, the connection closed.
    if (request.minor_version == 0)
      throw HttpError(400, "Transfer-Encoding in an HTTP/1.0 request (its framing cannot be trusted)");
    if (request.header_count("content-length") > 0)
      throw HttpError(400, "both Transfer-Encoding and Content-Length (a request-smuggling risk)");
    if (coding != "chunked" || request.header_count("transfer-encoding") > 1)
      throw HttpError(501, fmt::format("Transfer-Encoding {} is not supported (only chunked, on one line)",
                                       sample(coding)));
  }
  if (length > max_body_bytes_)
    throw HttpError(413, fmt::format("the request body is too large: {} bytes; the limit is {}", length, max_body_bytes_));
  if (before_body) before_body(request);
  if (has_coding) read_chunked_body(request);
  else read_fixed_body(request, length);
  return true;
}

void RequestReader::read_fixed_body(Request& request, uint64_t length) {
  while (buffer_.size() - position_ < length)
    if (!more()) fail("the connection closed inside a request body ({} of {} bytes)", buffer_.size() - position_, length);
  request.body.assign(buffer_, position_, length);
  position_ += length;
}

void RequestReader::read_chunked_body(Request& request) {
  for (;;) {
    std::string_view size_line = line(kMaxChunkLine);
    size_line = trim(size_line.substr(0, size_line.find(';')));  // extensions are ignored
    if (size_line.empty() || size_line.size() > 15 ||
        !std::all_of(size_line.begin(), size_line.end(), [](char c) { return hex_digit(c) >= 0; }))
      throw HttpError(400, fmt::format("chunk size {} is not hexadecimal", sample(size_line)));
    uint64_t size = 0;
    for (const char c : size_line) size = size * 16 + static_cast<uint64_t>(hex_digit(c));
    if (size == 0) break;
    if (request.body.size() + size > max_body_bytes_)
      throw HttpError(413, fmt::format("the request body is too large: its chunks pass the limit of {} bytes",
                                       max_body_bytes_));
    while (buffer_.size() - position_ < size + 2)
      if (!more()) fail("the connection closed inside a chunk");
    request.body.append(buffer_, position_, size);
    position_ += size;
    if (buffer_.compare(position_, 2, "\r\n") != 0) throw HttpError(400, "a chunk not followed by CRLF");
    position_ += 2;
  }
  for (size_t trailers = 0;; ++trailers) {  // trailer fields are read and dropped
    if (line(kMaxChunkLine).empty()) break;
    if (trailers == kMaxHeaders) throw HttpError(431, fmt::format("more than {} trailer lines", kMaxHeaders));
  }
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

std::string http_date(std::chrono::system_clock::time_point when) {
  // IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT", always in English and GMT.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", kDays[utc.tm_wday], utc.tm_mday, kMonths[utc.tm_mon],
                     utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string serialize(const Response& response, bool keep_alive, bool head) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", response.status, reason_phrase(response.status));
  if (!response.content_type.empty()) out += fmt::format("Content-Type: {}\r\n", response.content_type);
  if (response.status != 204 && response.status != 304)  // those have no body, and say no length (RFC 9110 8.6)
    out += fmt::format("Content-Length: {}\r\n", response.body.size());
  out += fmt::format("Date: {}\r\n", http_date(std::chrono::system_clock::now()));
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) out += fmt::format("{}: {}\r\n", name, value);
  out += "\r\n";
  if (!head) out += response.body;
  return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space, const char* what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int high = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
      if (high < 0 || low < 0)
        throw HttpError(400, fmt::format("{}: '%' not followed by two hexadecimal digits at byte {}", what, i));
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

}  // namespace tg::serve
