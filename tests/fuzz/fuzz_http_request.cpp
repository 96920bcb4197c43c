// libFuzzer target: the HTTP/1.1 requests the servers read off a connection
// (serve/http_message.h). The first byte picks how the bytes arrive (1 to
// 256 at a time) and the body limit; the rest is the stream. Requests are
// read until the stream ends: each read returns a request whose body keeps to
// the limit, or throws HttpError with a status of 4xx/5xx and a message, or
// Error for a stream that ends inside a request; nothing else, and the
// answer to each request serializes.
#include "fuzz_support.h"
#include "serve/http_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0];
  const size_t max_body = 16u << (data[0] % 8);
  tg::serve::StringSource source(fuzz::bytes(data + 1, size - 1), chunk);
  tg::serve::RequestReader reader(source, max_body);
  try {
    tg::serve::Request request;
    for (int i = 0; i < 1000 && reader.read(request); ++i) {
      if (request.body.size() > max_body) fuzz::broken("a body over the limit was read");
      if (request.path.empty() || request.method.empty()) fuzz::broken("a request without a method or path");
      tg::serve::Response answer;
      answer.body = request.body;
      tg::serve::serialize(answer, request.keep_alive(), request.method == "HEAD");
    }
  } catch (const tg::serve::HttpError& e) {
    if (e.status() < 400 || e.status() > 599) fuzz::broken("a refusal whose status is not 4xx or 5xx");
    if (std::string_view(e.what()).empty()) fuzz::broken("a refusal without a message");
  } catch (const tg::Error&) {
    // the stream ended inside a request
  }
  return 0;
}
