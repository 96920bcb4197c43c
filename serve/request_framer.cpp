#include "serve/request_framer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <string>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace tg::serve {

namespace {

namespace http = boost::beast::http;
using Parser = http::request_parser<http::string_body>;

constexpr size_t kMaxChunkExtensionBytes = 1024;  // ";name=value" after a chunk's size: read, then ignored

// A quoted sample of what was sent, for a message (at most 40 bytes).
std::string sample(std::string_view s) {
  return s.size() <= 40 ? fmt::format("'{}'", s) : fmt::format("'{}...'", s.substr(0, 40));
}

// What Beast's parser refused, as the answer says it.
HttpError refusal(const boost::system::error_code& error, const Parser& parser, size_t max_body_bytes) {
  using E = http::error;
  if (error == E::header_limit) return HttpError(431, fmt::format("a request head longer than {} bytes", kMaxHeadBytes));
  if (error == E::body_limit) {
    if (const auto length = parser.get()[http::field::content_length]; !parser.chunked() && !length.empty())
      return HttpError(413, fmt::format("the request body is too large: {} bytes; the limit is {}", std::string_view(length),
                                        max_body_bytes));
    return HttpError(413, fmt::format("the request body is too large: its chunks pass the limit of {} bytes", max_body_bytes));
  }
  if (error == E::bad_method || error == E::bad_target || error == E::bad_version)
    return HttpError(400, "malformed request line: expected METHOD TARGET HTTP/1.1 (a token, a target from / without "
                          "spaces or control characters, the version)");
  if (error == E::bad_field) return HttpError(400, "malformed header line: expected Name: value");
  if (error == E::bad_value) return HttpError(400, "a header value holds a control character");
  if (error == E::bad_obs_fold) return HttpError(400, "a folded header line (obsolete line folding is refused)");
  if (error == E::bad_line_ending) return HttpError(400, "a line that does not end in CRLF");
  if (error == E::multiple_content_length) return HttpError(400, "two Content-Length headers that differ");
  if (error == E::bad_transfer_encoding || (error == E::bad_content_length && parser.chunked()))
    return HttpError(400, "both Transfer-Encoding and Content-Length, or chunked given twice (a request-smuggling risk)");
  if (error == E::bad_content_length) return HttpError(400, "Content-Length is not a length in bytes (one decimal number)");
  if (error == E::bad_chunk_extension)
    return HttpError(400, fmt::format("a chunk's extensions are malformed or longer than {} bytes", kMaxChunkExtensionBytes));
  if (error == E::bad_chunk)
    return HttpError(400, "malformed chunk: expected a hexadecimal size line, the chunk's bytes, then CRLF");
  return HttpError(400, fmt::format("malformed request: {}", error.message()));
}

// Beast's bad_version, told apart: a well-formed version other than 1.0 or 1.1 (505), a request line ending in a
// bare LF, or a malformed one (400). `request` starts at the request line.
HttpError version_refusal(std::string_view request) {
  std::string_view line = request.substr(0, request.find('\n'));
  const bool crlf = !line.empty() && line.back() == '\r';
  if (crlf) line.remove_suffix(1);
  const std::string_view version = line.substr(line.rfind(' ') + 1);
  const bool well_formed = version.size() == 8 && version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
                           version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7]));
  if (well_formed && version != "HTTP/1.1" && version != "HTTP/1.0")
    return HttpError(505, fmt::format("the request line {} names a version other than HTTP/1.0 or 1.1 (this server "
                                      "speaks HTTP/1.1)", sample(line)));
  if (well_formed && !crlf) return HttpError(400, "a line that does not end in CRLF");
  return HttpError(400, fmt::format("malformed request line {}: expected METHOD TARGET HTTP/1.1", sample(line)));
}

// The target (RFC 9112 3.2): origin-form "/path?query", or absolute-form "http://host/path" (what a proxy sends,
// its authority standing for Host). The path and query are percent-decoded.
void parse_target(std::string_view target, Request& request) {
  std::string_view path_and_query = target;
  for (const std::string_view scheme : {"http://", "https://"})
    if (ascii_lowercase(target.substr(0, scheme.size())) == scheme) {
      const std::string_view rest = target.substr(scheme.size());
      const size_t slash = rest.find_first_of("/?");
      request.target_authority = rest.substr(0, slash);
      if (request.target_authority.empty())
        throw HttpError(400, fmt::format("malformed request line: target {} names no host", sample(target)));
      path_and_query = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      if (path_and_query.front() == '?') throw HttpError(400, fmt::format("malformed request line: target {}", sample(target)));
    }
  if (path_and_query.empty() || path_and_query.front() != '/')
    throw HttpError(400, fmt::format("malformed request line: target {} (expected a path from /)", sample(target)));
  const size_t question = path_and_query.find('?');
  request.path = percent_decode(path_and_query.substr(0, question), false, "the path");
  // A control character in the path (%-encoded; Beast refuses one sent as is) is never a route's; refusing it
  // keeps it out of every message that quotes the path.
  if (std::any_of(request.path.begin(), request.path.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    throw HttpError(400, "malformed request line: the path holds a control character");
  if (question == std::string_view::npos) return;
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

// Framing Beast lets through that this server refuses (RFC 9112 6.1, 6.3): any Transfer-Encoding line, an empty
// one included, decides the framing, so only one line saying exactly "chunked" passes, never beside a
// Content-Length, never in HTTP/1.0.
void check_framing(const Request& request) {
  const size_t codings = request.header_count("transfer-encoding");
  if (codings == 0) return;
  if (request.minor_version == 0) throw HttpError(400, "Transfer-Encoding in an HTTP/1.0 request (its framing cannot be trusted)");
  if (request.header_count("content-length") > 0)
    throw HttpError(400, "both Transfer-Encoding and Content-Length, or chunked given twice (a request-smuggling risk)");
  const std::string coding = ascii_lowercase(request.header("transfer-encoding"));
  if (coding != "chunked" || codings > 1)
    throw HttpError(501, fmt::format("Transfer-Encoding {} is not supported (only chunked, on one line)", sample(coding)));
}

}  // namespace

struct RequestFramer::State {
  size_t max_body_bytes;
  std::string buffer;
  size_t position = 0;        // bytes of buffer parsed
  size_t empty_line_bytes = 0;  // skipped before this request's line
  std::optional<Parser> parser;
  Request request;
  bool head_returned = false;
  // Beast reads a chunk's extensions whole, however long, when they have arrived at once: held to a limit here.
  std::function<void(std::uint64_t, boost::beast::string_view, boost::system::error_code&)> check_chunk_header =
      [](std::uint64_t, boost::beast::string_view extensions, boost::system::error_code& error) {
        if (extensions.size() > kMaxChunkExtensionBytes) error = http::error::bad_chunk_extension;
      };
  size_t prepared = 0;          // the room prepare() last added

  void start() {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(kMaxHeadBytes));
    parser->body_limit(max_body_bytes);
    parser->on_chunk_header(check_chunk_header);
    request = Request{};
    head_returned = false;
    empty_line_bytes = 0;
  }

  // The head Beast read, as a Request held to the rules above.
  void read_head() {
    const auto& head = parser->get();
    if (head.version() != 10 && head.version() != 11)
      throw HttpError(505, fmt::format("HTTP/{}.{} (this server speaks HTTP/1.1)", head.version() / 10, head.version() % 10));
    request.method = std::string(head.method_string());
    request.minor_version = head.version() % 10;
    parse_target(head.target(), request);
    for (const auto& field : head) {
      if (request.headers.size() == kMaxHeaders) throw HttpError(431, fmt::format("more than {} header lines", kMaxHeaders));
      request.headers.emplace_back(ascii_lowercase(field.name_string()), std::string(field.value()));
    }
    check_host(request);
    check_framing(request);
  }
};

RequestFramer::RequestFramer(size_t max_body_bytes) : state_(std::make_unique<State>()) {
  state_->max_body_bytes = max_body_bytes;
  state_->start();
}

RequestFramer::~RequestFramer() = default;

std::span<char> RequestFramer::prepare(size_t bytes) {
  std::string& buffer = state_->buffer;
  if (state_->position > 0) {  // parsed bytes go (Beast keeps no pointer into them)
    buffer.erase(0, state_->position);
    state_->position = 0;
  }
  const size_t size = buffer.size();
  buffer.resize(size + bytes);
  state_->prepared = bytes;
  return {buffer.data() + size, bytes};
}

void RequestFramer::commit(size_t written) {
  state_->buffer.resize(state_->buffer.size() - state_->prepared + std::min(written, state_->prepared));
  state_->prepared = 0;
}

void RequestFramer::append(std::string_view bytes) {
  const std::span<char> room = prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), room.begin());
  commit(bytes.size());
}

RequestFramer::Progress RequestFramer::parse() {
  State& s = *state_;
  Parser& parser = *s.parser;
  // Empty lines before a request line are allowed (RFC 9112 2.2), within the head's limit.
  while (!parser.got_some() && s.position < s.buffer.size() && (s.buffer[s.position] == '\r' || s.buffer[s.position] == '\n')) {
    ++s.position;
    if (++s.empty_line_bytes > kMaxHeadBytes)
      throw HttpError(431, fmt::format("a request head longer than {} bytes", kMaxHeadBytes));
  }
  while (!parser.is_done()) {
    if (s.position == s.buffer.size()) return Progress::need_more;
    boost::system::error_code error;
    const std::string_view from_here = std::string_view(s.buffer).substr(s.position);
    const size_t used = parser.put(boost::asio::const_buffer(s.buffer.data() + s.position, s.buffer.size() - s.position), error);
    s.position += used;
    if (error == http::error::need_more) {
      // Beast takes body bytes as they come and holds a head to its limit; what it leaves waiting past that is a
      // chunk's size line (its extensions) or a trailer growing without end: refused before it costs memory.
      if (s.buffer.size() - s.position > kMaxHeadBytes)
        throw parser.is_header_done()
            ? HttpError(400, fmt::format("a chunk size line or trailer longer than {} bytes", kMaxHeadBytes))
            : HttpError(431, fmt::format("a request head longer than {} bytes", kMaxHeadBytes));
      return Progress::need_more;
    }
    if (error == http::error::bad_version) throw version_refusal(from_here);
    if (error) throw refusal(error, parser, s.max_body_bytes);
    if (parser.is_header_done() && !s.head_returned) {
      s.head_returned = true;
      s.read_head();
      if (!parser.is_done()) return Progress::head;
    }
    if (used == 0 && !parser.is_done()) return Progress::need_more;
  }
  if (!s.head_returned) {  // a head and no body, in one put()
    s.head_returned = true;
    s.read_head();
  }
  s.request.body = std::move(parser.get().body());
  return Progress::whole;
}

Request& RequestFramer::request() { return state_->request; }

void RequestFramer::next() { state_->start(); }

bool RequestFramer::started() const { return state_->parser->got_some() || state_->position < state_->buffer.size(); }


}  // namespace tg::serve
