// libFuzzer target: the HTTP/1.1 requests the servers read off a connection,
// framed by Boost.Beast's parser and held to the servers' rules
// (serve/request_framer.h). The first byte picks how the bytes arrive (1 to
// 256 at a time) and the body limit; the rest is the stream. Requests are
// parsed until the stream ends or one is refused: each whole request keeps
// its body to the limit and has a method and a path, a refusal is HttpError
// with a 4xx/5xx status and a message, nothing else is thrown, and the
// answer to each request serializes.
#include "fuzz_support.h"
#include "serve/request_framer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0];
  const size_t max_body = 16u << (data[0] % 8);
  const std::string_view stream = fuzz::bytes(data + 1, size - 1);
  tg::serve::RequestFramer framer(max_body);
  using Progress = tg::serve::RequestFramer::Progress;
  try {
    for (size_t at = 0; at < stream.size(); at += chunk) {
      framer.append(stream.substr(at, chunk));
      for (Progress p; (p = framer.parse()) != Progress::need_more;) {
        if (p == Progress::head) continue;
        const tg::serve::Request& request = framer.request();
        if (request.body.size() > max_body) fuzz::broken("a body over the limit was read");
        if (request.path.empty() || request.method.empty()) fuzz::broken("a request without a method or path");
        tg::serve::Response answer;
        answer.body = request.body;
        tg::serve::serialize(answer, request.keep_alive(), request.method == "HEAD");
        framer.next();
      }
    }
  } catch (const tg::serve::HttpError& e) {
    if (e.status() < 400 || e.status() > 599) fuzz::broken("a refusal whose status is not 4xx or 5xx");
    if (std::string_view(e.what()).empty()) fuzz::broken("a refusal without a message");
  }
  return 0;
}
