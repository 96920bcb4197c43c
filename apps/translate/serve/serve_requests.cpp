#include "apps/translate/serve/serve_requests.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
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
    if (!it->is_boolean()) throw HttpError(400, fmt::format("\"{}\" must be true or false, got {}", name, it->dump(-1, ' ', false, json::error_handler_t::replace)));
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer())
      throw HttpError(400, fmt::format("\"{}\" must be an integer, got {}", name, it->dump(-1, ' ', false, json::error_handler_t::replace)));
  } else {
    if (!it->is_string()) throw HttpError(400, fmt::format("\"{}\" must be a string, got {}", name, it->dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  return it->get<T>();
}

}  // namespace

namespace {

// A LibreTranslate field that must be a string when given (a form's always is).
std::string libre_string(const json& body, const char* name, const std::string& fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw HttpError(400, fmt::format("Invalid request: {} parameter must be a string, got {}", name, it->dump(-1, ' ', false, json::error_handler_t::replace)));
  return it->get<std::string>();
}

}  // namespace

LibreRequest parse_libretranslate(const json& body, int64_t beam) {
  if (!body.is_object()) throw HttpError(400, "Invalid request: expected a JSON object with q");
  const auto q = body.find("q");
  if (q == body.end() || q->is_null()) throw HttpError(400, "Invalid request: missing q parameter");
  LibreRequest r;
  if (q->is_string()) {
    r.texts.push_back(q->get<std::string>());
  } else if (q->is_array() && std::all_of(q->begin(), q->end(), [](const json& v) { return v.is_string(); })) {
    r.texts = q->get<std::vector<std::string>>();
    r.list = true;
  } else {
    throw HttpError(400, fmt::format("Invalid request: q must be a string or a list of strings, got {}", q->type_name()));
  }
  r.source = libre_string(body, "source", "auto");
  r.target = libre_string(body, "target", "en");
  const std::string format = libre_string(body, "format", "text");
  if (format != "text" && format != "html")
    throw HttpError(400, fmt::format("Invalid request: format '{}' is not text or html", format));
  r.html = format == "html";
  // alternatives: an integer, or its decimal digits (LibreTranslate reads int(alternatives) from JSON and forms).
  if (const auto alt = body.find("alternatives"); alt != body.end() && !alt->is_null()) {
    if (alt->is_number_integer()) {
      r.alternatives = alt->get<int64_t>();
    } else if (const std::string text = alt->is_string() ? alt->get<std::string>() : std::string();
               !text.empty() && text.size() < 10 && std::all_of(text.begin(), text.end(), ::isdigit)) {
      r.alternatives = std::stoll(text);
    } else {
      throw HttpError(400, fmt::format("Invalid request: alternatives parameter is not a number, got {}", alt->dump(-1, ' ', false, json::error_handler_t::replace)));
    }
  }
  if (r.alternatives < 0 || r.alternatives > beam - 1)
    throw HttpError(400, fmt::format("Invalid request: alternatives must be between 0 and {} (the server's --beam {})",
                                     beam - 1, beam));
  if (const auto att = body.find("attention"); att != body.end() && att->is_string()) {
    if (*att != "true" && *att != "false")
      throw HttpError(400, fmt::format("\"attention\" must be true or false, got {}", att->dump(-1, ' ', false, json::error_handler_t::replace)));
    r.attention = *att == "true";
  } else {
    r.attention = field<bool>(body, "attention", false);
  }
  return r;
}

std::string parse_detect(const json& body) {
  if (!body.is_object()) throw HttpError(400, "Invalid request: expected a JSON object with q");
  const auto q = body.find("q");
  if (q == body.end() || q->is_null()) throw HttpError(400, "Invalid request: missing q parameter");
  if (!q->is_string()) throw HttpError(400, fmt::format("Invalid request: q must be a string, got {}", q->type_name()));
  return q->get<std::string>();
}

OpenNmtRequest parse_opennmt(const json& body, int64_t beam, int64_t model_id) {
  if (!body.is_array()) throw HttpError(400, "expected a JSON list of {\"src\": ..., \"id\": 0}");
  OpenNmtRequest r;
  for (const json& item : body) {
    if (!item.is_object() || !item.contains("src") || !item["src"].is_string())
      throw HttpError(400, fmt::format("each item must be an object with a string \"src\", got {}", item.dump(-1, ' ', false, json::error_handler_t::replace)));
    const int64_t id = field<int64_t>(item, "id", model_id);
    if (id != model_id) throw HttpError(400, fmt::format("no model with id {}; this server has model {}", id, model_id));
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
