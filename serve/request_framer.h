#pragma once
// Requests framed off a connection's bytes by Boost.Beast's HTTP/1.1 parser
// (request line, fields, Content-Length or chunked bodies, the head's and the
// body's limits), then held to this server's rules. Without I/O: the server
// appends what it reads off a socket; the tests and the fuzz target append
// any bytes, cut anywhere.
//
// What a request may not do, each an HttpError with its status:
//   - a head over kMaxHeadBytes, or more than kMaxHeaders fields: 431;
//   - a malformed request line, field or chunk; a Content-Length that is not a
//     length, or two that differ; Content-Length beside Transfer-Encoding;
//     Transfer-Encoding in HTTP/1.0; Host missing (HTTP/1.1), repeated, or not
//     a host[:port]; a control character in the path: 400;
//   - a transfer coding other than chunked, or Transfer-Encoding on more than
//     one line (an empty one included): 501;
//   - a version other than HTTP/1.0 or 1.1: 505;
//   - a body over max_body_bytes, however it is framed: 413, before it is read.
// After a refusal the connection must close: the next request's first byte is
// not known.
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "serve/http_message.h"

namespace tg::serve {

class RequestFramer {
 public:
  explicit RequestFramer(size_t max_body_bytes);
  ~RequestFramer();
  RequestFramer(const RequestFramer&) = delete;
  RequestFramer& operator=(const RequestFramer&) = delete;

  // Room for up to `bytes` more bytes; commit() says how many were written there.
  std::span<char> prepare(size_t bytes);
  void commit(size_t written);
  void append(std::string_view bytes);

  enum class Progress {
    need_more,  // the bytes so far end inside a request (or before one)
    head,       // a request's head is read, its body not yet (where "Expect: 100-continue" is answered)
    whole,      // a request is read, body and all
  };
  // Parses what is buffered. Throws HttpError for a request it refuses.
  Progress parse();
  // The request parse() last returned head or whole for (its body once whole).
  Request& request();
  // After whole: on to the next request; bytes past this one (a pipelined next) stay.
  void next();
  // Whether bytes of the next request (or the empty lines allowed before one) have arrived: its time runs.
  bool started() const;

 private:
  struct State;
  std::unique_ptr<State> state_;  // keeps Beast out of this header
};

}  // namespace tg::serve
