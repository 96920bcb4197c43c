// libFuzzer target: the bodies `translate serve` reads. The input, cut at
// its first NUL, gives the Content-Type header and the body (JSON, a
// urlencoded form or a multipart one, as the header says); the first byte
// also picks the server's beam (1..8). parse_body_fields, then the
// LibreTranslate, detect and OpenNMT-py parsers
// (apps/translate/serve/serve_requests.h), must return or throw
// serve::HttpError 400 (415 for a content type) with a message, never
// anything else; what they return keeps to the limits they promise.
#include "fuzz_support.h"
#include "serve/request_body.h"
#include "apps/translate/serve/serve_requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::bytes(data, size);
  const size_t cut = input.find('\0');
  const std::string content_type(cut == std::string_view::npos ? std::string_view("application/json") : input.substr(0, cut));
  const std::string body(cut == std::string_view::npos ? input : input.substr(cut + 1));
  const int64_t beam = size > 0 ? 1 + data[0] % 8 : 5;
  auto refused = [](const tg::serve::HttpError& e, bool content_type_too) {
    if (e.status() != 400 && !(content_type_too && e.status() == 415)) fuzz::broken("a request error that is not 400");
    if (std::string_view(e.what()).empty()) fuzz::broken("a request error without a message");
  };
  tg::serve::BodyFields fields;
  try {
    fields = tg::serve::parse_body_fields(body, content_type, tg::serve::BodyKinds::json_or_form);
  } catch (const tg::serve::HttpError& e) {
    refused(e, true);
    return 0;
  }
  const nlohmann::json& json = fields.fields;
  if (!json.is_object() && !json.is_array()) fuzz::broken("parse_body_fields let through a body that is not an object or list");
  // A file part has a name; its filename may be "" (a browser sends filename="" for a blob: tests/test_http_server.cpp).
  for (const tg::serve::FormPart& f : fields.files)
    if (f.name.empty() || !f.is_file) fuzz::broken("a file part without its name, or a field among the files");
  try {
    const tg::translate::LibreRequest r = tg::translate::parse_libretranslate(json, beam);
    if (r.alternatives < 0 || r.alternatives >= beam) fuzz::broken("alternatives outside 0..beam-1");
    if (!r.list && r.texts.size() != 1) fuzz::broken("a string q gave other than one text");
  } catch (const tg::serve::HttpError& e) {
    refused(e, false);
  }
  try {
    tg::translate::parse_detect(json);
  } catch (const tg::serve::HttpError& e) {
    refused(e, false);
  }
  try {
    const tg::translate::OpenNmtRequest r = tg::translate::parse_opennmt(json, beam);
    if (r.n_best < 1 || r.n_best > beam) fuzz::broken("n_best outside 1..beam");
    if (r.texts.size() != json.size()) fuzz::broken("a text per item");
  } catch (const tg::serve::HttpError& e) {
    refused(e, false);
  }
  return 0;
}
