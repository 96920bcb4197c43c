#pragma once
// A request body's fields, from the three ways clients send them:
//   application/json                    {"q": "...", "alternatives": 2}
//   application/x-www-form-urlencoded   q=...&alternatives=2
//   multipart/form-data (RFC 7578)      one part per field; a part with a
//                                       filename is a file (audio, a .txt)
// Form fields arrive as strings (a field given twice: a list of them);
// what a route's parser does with "2" is its own rule. Every refusal is a
// HttpError 400 (415 for a content type the route does not read) naming
// what came. Apart from the server, so that the fuzz target reaches it.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/http_message.h"

namespace tg::serve {

// JSON nested deeper than this is refused before it is parsed: a request
// must never exhaust the server's stack (parsing, copying or freeing it).
constexpr int kMaxJsonDepth = 64;
// At most this many parts in a multipart body, and header lines in a part.
constexpr size_t kMaxFormParts = 256;
constexpr size_t kMaxPartHeaders = 16;

struct FormPart {
  std::string name;
  std::string filename;      // as sent; may be "" for a file
  std::string content_type;  // the part's own, "" when not given
  std::string value;
  bool is_file = false;      // its Content-Disposition has a filename parameter (bytes, not a text field)
};

struct BodyFields {
  nlohmann::json fields = nlohmann::json::object();  // a JSON body as sent (object or array); a form's text fields
  std::vector<FormPart> files;                       // a multipart body's parts with a filename
  const FormPart* file(std::string_view name) const;
};

enum class BodyKinds { json, json_or_form };

// The fields of `body` sent as `content_type`; a form only where `kinds` allows.
BodyFields parse_body_fields(const std::string& body, const std::string& content_type, BodyKinds kinds);

// The JSON body of a route, parsed and checked (a JSON object or array,
// sent as application/json, nested at most kMaxJsonDepth deep).
nlohmann::json parse_json_body(const std::string& body, const std::string& content_type);

std::vector<FormPart> parse_urlencoded(std::string_view body);
std::vector<FormPart> parse_multipart(std::string_view body, std::string_view content_type);

// "Multipart/Form-Data; boundary=x" -> "multipart/form-data".
std::string media_type(std::string_view content_type);
// A parameter of a content type or disposition ("boundary", "name"): unquoted; "" when absent.
// `present`, when given, says whether the parameter was there at all (an empty value is still there).
std::string header_parameter(std::string_view header, std::string_view name, bool* present = nullptr);

}  // namespace tg::serve
