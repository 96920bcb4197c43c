#include "apps/translate/serve/serve_requests.h"

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>

#include "serve/http_server.h"

namespace tg::translate {

namespace {

using nlohmann::json;
using serve::HttpError;

// A field of a JSON object: absent (or null) gives `fallback`; a value of another type is a 400 naming it.
template <class T>
T field(const json& body, const char* name, T fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) throw HttpError(400, fmt::format("\"{}\" must be true or false, got {}", name, it->dump()));
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer())
      throw HttpError(400, fmt::format("\"{}\" must be an integer, got {}", name, it->dump()));
  } else {
    if (!it->is_string()) throw HttpError(400, fmt::format("\"{}\" must be a string, got {}", name, it->dump()));
  }
  return it->get<T>();
}

}  // namespace

LibreRequest parse_libretranslate(const json& body, int64_t beam) {
  if (!body.is_object()) throw HttpError(400, "expected a JSON object with \"q\"");
  const auto q = body.find("q");
  if (q == body.end()) throw HttpError(400, "\"q\" is missing: the text to translate, a string or a list of strings");
  LibreRequest r;
  if (q->is_string()) {
    r.texts.push_back(q->get<std::string>());
  } else if (q->is_array() && std::all_of(q->begin(), q->end(), [](const json& v) { return v.is_string(); })) {
    r.texts = q->get<std::vector<std::string>>();
    r.list = true;
  } else {
    throw HttpError(400, fmt::format("\"q\" must be a string or a list of strings, got {}", q->type_name()));
  }
  const std::string source = field<std::string>(body, "source", "auto");
  const std::string target = field<std::string>(body, "target", "en");
  if (source != "de" && source != "auto")
    throw HttpError(400, fmt::format("this model translates de to en; \"source\" '{}' is not de (or auto)", source));
  if (target != "en") throw HttpError(400, fmt::format("this model translates de to en; \"target\" '{}' is not en", target));
  const std::string format = field<std::string>(body, "format", "text");
  if (format != "text") throw HttpError(400, fmt::format("\"format\" '{}' is not supported; send plain text", format));
  r.alternatives = field<int64_t>(body, "alternatives", 0);
  if (r.alternatives < 0 || r.alternatives > beam - 1)
    throw HttpError(400, fmt::format("\"alternatives\" must be between 0 and {} (the server's --beam {})", beam - 1, beam));
  r.attention = field<bool>(body, "attention", false);
  return r;
}

OpenNmtRequest parse_opennmt(const json& body, int64_t beam) {
  if (!body.is_array()) throw HttpError(400, "expected a JSON list of {\"src\": ..., \"id\": 0}");
  OpenNmtRequest r;
  for (const json& item : body) {
    if (!item.is_object() || !item.contains("src") || !item["src"].is_string())
      throw HttpError(400, fmt::format("each item must be an object with a string \"src\", got {}", item.dump()));
    const int64_t id = field<int64_t>(item, "id", 0);
    if (id != 0) throw HttpError(400, fmt::format("no model with id {}; this server has model 0", id));
    const int64_t n_best = field<int64_t>(item, "n_best", 1);
    if (n_best < 1 || n_best > beam)
      throw HttpError(400, fmt::format("\"n_best\" must be between 1 and {} (the server's --beam {})", beam, beam));
    r.n_best = std::max(r.n_best, n_best);
    r.align = r.align || field<bool>(item, "align", false);
    r.texts.push_back(item["src"].get<std::string>());
  }
  return r;
}

}  // namespace tg::translate
