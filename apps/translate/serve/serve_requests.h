#pragma once
// The two request formats `translate serve` reads (apps/translate/serve/serve.h),
// parsed and checked apart from any model, so that the fuzz target
// (tests/fuzz/fuzz_serve_request.cpp) reaches every path. A request that is
// not what the format says throws serve::HttpError 400 naming the field;
// fields a format does not know are ignored.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tg::translate {

// LibreTranslate's POST /translate, as JSON or a form (every field then a string):
//   {"q": "..." | ["...", ...], "source": "de" | "auto", "target": "en", "format": "text" | "html",
//    "alternatives": N (0..beam-1; "N" as LibreTranslate also takes it), "attention": true | false (ours),
//    "api_key": K}
// source and target default to "auto" and "en"; which languages the model
// has is the server's question, not the parser's. Messages for a missing or
// malformed field are LibreTranslate's ("Invalid request: missing q parameter").
struct LibreRequest {
  std::vector<std::string> texts;
  bool list = false;         // q was a list: the answer is one
  std::string source = "auto", target = "en";
  bool html = false;         // format "html": translate the text between the tags
  int64_t alternatives = 0;
  bool attention = false;
};
LibreRequest parse_libretranslate(const nlohmann::json& body, int64_t beam);

// LibreTranslate's POST /detect: {"q": "..."} -> the text.
std::string parse_detect(const nlohmann::json& body);

// OpenNMT-py's POST /translator/translate: [{"src": "...", "id": model_id, "n_best": N (1..beam), "align": bool}, ...].
// n_best and align apply to the whole request: the largest and any.
struct OpenNmtRequest {
  std::vector<std::string> texts;
  int64_t n_best = 1;
  bool align = false;
};
OpenNmtRequest parse_opennmt(const nlohmann::json& body, int64_t beam, int64_t model_id = 0);

}  // namespace tg::translate
