#include "serve/request_body.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace tg::serve {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Whether the JSON text nests arrays and objects deeper than `limit` (brackets inside strings do not count).
bool nested_deeper_than(const std::string& text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// The byte offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong forms,
// no surrogates, nothing past U+10FFFF), or npos.
size_t invalid_utf8_at(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return i;
    uint32_t code = n == 1 ? b : b & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return i;
      code = (code << 6) | (c & 0x3F);
    }
    const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < least[n] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += n;
  }
  return std::string_view::npos;
}

// Form fields as JSON: each name's value a string, a name given more than once a list of strings. Text
// fields must be UTF-8 (as JSON's strings are); files are bytes.
nlohmann::json fields_of(const std::vector<FormPart>& parts) {
  nlohmann::json fields = nlohmann::json::object();
  for (const FormPart& p : parts) {
    if (p.is_file) continue;
    for (const std::string* text : {&p.name, &p.value})
      if (const size_t at = invalid_utf8_at(*text); at != std::string_view::npos)
        throw HttpError(400, fmt::format("form field {} is not UTF-8 (byte {} of its {})", fields.size() + 1, at,
                                         text == &p.name ? "name" : "value"));
    nlohmann::json& slot = fields[p.name];
    if (slot.is_null()) slot = p.value;
    else if (slot.is_string()) slot = nlohmann::json::array({slot, p.value});
    else slot.push_back(p.value);
  }
  return fields;
}

}  // namespace

const FormPart* BodyFields::file(std::string_view name) const {
  for (const FormPart& f : files)
    if (f.name == name) return &f;
  return nullptr;
}

std::string media_type(std::string_view content_type) {
  return ascii_lowercase(trim(content_type.substr(0, content_type.find(';'))));
}

std::string header_parameter(std::string_view header, std::string_view name, bool* present) {
  if (present) *present = false;
  // value; key=token; key="quoted \" string"; ...
  size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;  // past ';'
    const size_t key_end = header.find_first_of("=;", i);
    const std::string key = ascii_lowercase(trim(header.substr(i, key_end == std::string_view::npos ? key_end : key_end - i)));
    if (key_end == std::string_view::npos) return "";
    i = key_end;
    if (header[i] == ';') continue;  // a key without a value
    ++i;  // past '='
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    std::string value;
    if (i < header.size() && header[i] == '"') {
      for (++i; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      i = header.find(';', i);
    } else {
      const size_t end = header.find(';', i);
      value = trim(header.substr(i, end == std::string_view::npos ? end : end - i));
      i = end;
    }
    if (key == name) {
      if (present) *present = true;
      return value;
    }
  }
  return "";
}

std::vector<FormPart> parse_urlencoded(std::string_view body) {
  std::vector<FormPart> parts;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      FormPart p;
      p.name = percent_decode(pair.substr(0, eq), true, "the form body");
      if (eq != std::string_view::npos) p.value = percent_decode(pair.substr(eq + 1), true, "the form body");
      parts.push_back(std::move(p));
    }
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return parts;
}

std::vector<FormPart> parse_multipart(std::string_view body, std::string_view content_type) {
  const std::string boundary = header_parameter(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 70)
    throw HttpError(400, fmt::format("multipart/form-data needs a boundary of 1 to 70 characters, got '{}'",
                                     boundary.substr(0, 80)));
  const std::string delimiter = "--" + boundary;
  // The first delimiter opens the body or follows a line of preamble.
  size_t at = body.substr(0, delimiter.size()) == delimiter ? 0 : body.find("\r\n" + delimiter);
  if (at == std::string_view::npos) throw HttpError(400, "multipart body without its boundary line");
  at += at == 0 ? delimiter.size() : delimiter.size() + 2;
  std::vector<FormPart> parts;
  for (;;) {
    if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;  // transport padding
    if (body.substr(at, 2) != "\r\n") throw HttpError(400, "multipart boundary line not ended by CRLF");
    at += 2;
    if (parts.size() == kMaxFormParts) throw HttpError(400, fmt::format("more than {} parts in a multipart body", kMaxFormParts));
    FormPart part;
    bool form_data = false;
    for (size_t lines = 0;; ++lines) {
      const size_t end = body.find("\r\n", at);
      if (end == std::string_view::npos) throw HttpError(400, "multipart part headers not ended by an empty line");
      const std::string_view line = body.substr(at, end - at);
      at = end + 2;
      if (line.empty()) break;
      if (lines == kMaxPartHeaders) throw HttpError(400, fmt::format("more than {} header lines in a multipart part", kMaxPartHeaders));
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos)
        throw HttpError(400, fmt::format("malformed multipart part header '{}'", line.substr(0, 60)));
      const std::string name = ascii_lowercase(trim(line.substr(0, colon)));
      const std::string_view value = trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        form_data = media_type(value) == "form-data";
        part.name = header_parameter(value, "name");
        part.filename = header_parameter(value, "filename", &part.is_file);  // filename="" is a file too
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
    }
    if (!form_data) throw HttpError(400, "a multipart part without Content-Disposition: form-data");
    if (part.name.empty()) throw HttpError(400, "a multipart part without a name");
    const size_t end = body.find("\r\n" + delimiter, at);
    if (end == std::string_view::npos)
      throw HttpError(400, fmt::format("multipart part '{}' is not closed by its boundary", part.name.substr(0, 60)));
    part.value = body.substr(at, end - at);
    parts.push_back(std::move(part));
    at = end + 2 + delimiter.size();
  }
}

nlohmann::json parse_json_body(const std::string& body, const std::string& content_type) {
  if (media_type(content_type) != "application/json")
    throw HttpError(415, fmt::format("expected Content-Type application/json, got '{}'",
                                     content_type.empty() ? std::string("none") : content_type));
  if (nested_deeper_than(body, kMaxJsonDepth))
    throw HttpError(400, fmt::format("invalid JSON body: nested deeper than {} levels", kMaxJsonDepth));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number that overflows
    // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    std::string what = e.what();
    if (const size_t at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    throw HttpError(400, "invalid JSON body: " + what);
  }
  if (!json.is_object() && !json.is_array())
    throw HttpError(400, fmt::format("expected a JSON object or array, got {}", json.type_name()));
  return json;
}

BodyFields parse_body_fields(const std::string& body, const std::string& content_type, BodyKinds kinds) {
  const std::string type = media_type(content_type);
  BodyFields out;
  if (kinds == BodyKinds::json_or_form && type == "application/x-www-form-urlencoded") {
    out.fields = fields_of(parse_urlencoded(body));
  } else if (kinds == BodyKinds::json_or_form && type == "multipart/form-data") {
    std::vector<FormPart> parts = parse_multipart(body, content_type);
    out.fields = fields_of(parts);
    for (FormPart& p : parts)
      if (p.is_file) out.files.push_back(std::move(p));
  } else if (kinds == BodyKinds::json_or_form && type != "application/json") {
    throw HttpError(415, fmt::format("expected Content-Type application/json, application/x-www-form-urlencoded or "
                                     "multipart/form-data, got '{}'",
                                     content_type.empty() ? std::string("none") : content_type));
  } else {
    out.fields = parse_json_body(body, content_type);
  }
  return out;
}

}  // namespace tg::serve
