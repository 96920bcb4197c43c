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

// LibreTranslate's POST /translate:
//   {"q": "..." | ["...", ...], "source": "de" | "auto", "target": "en", "format": "text",
//    "alternatives": N (0..beam-1), "attention": true | false (ours), "api_key": K}
struct LibreRequest {
  std::vector<std::string> texts;
  bool list = false;         // q was a list: the answer is one
  int64_t alternatives = 0;
  bool attention = false;
};
LibreRequest parse_libretranslate(const nlohmann::json& body, int64_t beam);

// OpenNMT-py's POST /translator/translate: [{"src": "...", "id": 0, "n_best": N (1..beam), "align": bool}, ...].
// n_best and align apply to the whole request: the largest and any.
struct OpenNmtRequest {
  std::vector<std::string> texts;
  int64_t n_best = 1;
  bool align = false;
};
OpenNmtRequest parse_opennmt(const nlohmann::json& body, int64_t beam);

}  // namespace tg::translate
