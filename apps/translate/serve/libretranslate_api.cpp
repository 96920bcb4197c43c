#include "apps/translate/serve/libretranslate_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "apps/translate/serve/html_text.h"
#include "apps/translate/serve/serve_requests.h"
#include "data/text/utf8.h"
#include "serve/random_token.h"

namespace tg::translate {

namespace {

using nlohmann::json;
using serve::HttpError;

constexpr size_t kKeptFiles = 64;

const char* language_name(const std::string& code) { return code == "de" ? "German" : code == "en" ? "English" : ""; }

// "q N rest" with N (1-based, among the pieces translated) replaced by the number of the text it came from.
std::string renumbered(const std::string& message, const std::vector<std::pair<size_t, size_t>>& places) {
  size_t end = 2;
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
  if (message.rfind("q ", 0) != 0 || end == 2 || end > 9) return message;
  const size_t piece = std::stoul(message.substr(2, end - 2));
  if (piece < 1 || piece > places.size()) return message;
  return fmt::format("q {}{}", places[piece - 1].first + 1, message.substr(end));
}

bool is_space_only(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// The last translated files, by id, for GET /download_file/ID.
class FileStore {
 public:
  std::string put(const std::string& filename, std::string content) {
    std::string safe;
    for (const char c : filename) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '_';
    // At most 100 characters of the name, its end (".txt") kept.
    if (safe.size() > 100) safe = safe.substr(0, 96) + safe.substr(safe.size() - 4);
    const std::lock_guard lock(mutex_);
    const std::string id = serve::random_token(16) + "." + safe;  // 128 bits no client can predict
    files_.emplace_back(id, std::move(content));
    if (files_.size() > kKeptFiles) files_.pop_front();
    return id;
  }
  std::string copy(const std::string& id) {
    const std::lock_guard lock(mutex_);
    for (const auto& [i, content] : files_)
      if (i == id) return content;
    throw HttpError(404, "no such file: it was never made here, or 64 newer ones replaced it");
  }

 private:
  std::mutex mutex_;
  std::deque<std::pair<std::string, std::string>> files_;
};

class LibreTranslateApi {
 public:
  explicit LibreTranslateApi(TranslationService& service) : service_(service) {}

  json translate(const serve::Request& http_request, const json& body) {
    const LibreRequest request = parse_libretranslate(body, service_.options().beam);
    if (request.texts.empty()) throw HttpError(400, "Invalid request: q holds no text");
    service_.check_limits(request.texts);
    check_language(request.target, "target");
    if (request.source != "auto") check_language(request.source, "source");
    if (request.html && request.alternatives > 0)
      throw HttpError(400, "Invalid request: alternatives are given for format text only");
    // Each text's source language; the pieces to translate (a text, or an HTML text's text nodes).
    std::vector<json> detected;
    std::vector<std::vector<HtmlPiece>> documents;
    std::vector<std::string> segments;
    std::vector<std::pair<size_t, size_t>> places;  // segment -> (text, piece)
    std::vector<bool> unchanged;
    for (size_t i = 0; i < request.texts.size(); ++i) {
      const std::string& text = request.texts[i];
      documents.push_back(request.html ? split_html(text) : std::vector<HtmlPiece>{{true, text}});
      std::string source = request.source;
      if (source == "auto") {
        std::string plain;
        for (const HtmlPiece& p : documents.back())
          if (p.is_text) plain += p.content + " ";
        const LanguageIdentifier::Guess guess = detect_one(plain);
        detected.push_back({{"language", guess.language}, {"confidence", guess.confidence}});
        source = guess.language;
      }
      check_pair(source, request.target);
      unchanged.push_back(source == request.target);
      if (unchanged.back()) continue;
      for (size_t p = 0; p < documents.back().size(); ++p)
        if (documents.back()[p].is_text && (!request.html || !is_space_only(documents.back()[p].content))) {
          segments.push_back(documents.back()[p].content);
          places.emplace_back(i, p);
        }
    }
    std::vector<Translation> out;
    if (!segments.empty()) {
      try {
        out = service_.translate(segments, "q", request.alternatives + 1, request.attention && !request.html,
                                 http_request);
      } catch (const HttpError& e) {  // "q N ...": N counts the pieces sent to translate; say which text it is
        throw HttpError(e.status(), renumbered(e.what(), places));
      }
    }
    std::vector<std::vector<Translation>> per_text(request.texts.size());
    for (size_t s = 0; s < out.size(); ++s) {
      HtmlPiece& piece = documents[places[s].first][places[s].second];
      const std::string& original = piece.content;  // keep the spaces around an HTML text node
      const size_t lead = original.find_first_not_of(" \t\r\n"), trail = original.find_last_not_of(" \t\r\n");
      piece.content = request.html ? original.substr(0, lead) + out[s].text + original.substr(trail + 1) : out[s].text;
      per_text[places[s].first].push_back(out[s]);
    }
    json texts = json::array(), alternatives = json::array(), attention = json::array();
    for (size_t i = 0; i < request.texts.size(); ++i) {
      texts.push_back(unchanged[i] ? request.texts[i] : request.html ? join_html(documents[i]) : documents[i][0].content);
      json alts = json::array();
      json att = nullptr;
      if (!request.html && !per_text[i].empty()) {
        for (const Alternative& a : per_text[i][0].alternatives) alts.push_back(a.text);
        att = attention_json(per_text[i][0]);
      }
      alternatives.push_back(alts);
      attention.push_back(att);
    }
    json answer;
    answer["translatedText"] = request.list ? texts : texts[0];
    if (request.alternatives > 0) answer["alternatives"] = request.list ? alternatives : alternatives[0];
    if (request.source == "auto") answer["detectedLanguage"] = request.list ? json(detected) : detected[0];
    if (request.attention) answer["attention"] = request.list ? attention : attention[0];
    return answer;
  }

  json detect(const json& body) {
    const LanguageIdentifier* identifier = service_.language_identifier();
    if (!identifier)
      throw HttpError(501, "no language identifier: none was saved beside the model (language_id.json) and the server "
                           "found no Multi30k training text to learn one from (--data-dir); `translate langid` "
                           "makes one");
    const std::string text = parse_detect(body);
    if (const int64_t characters = utf8_characters(text); characters > service_.options().max_characters)
      throw HttpError(400, fmt::format("{} characters to detect; the limit is {} (--max-characters)", characters,
                                       service_.options().max_characters));
    json guesses = json::array();
    for (const LanguageIdentifier::Guess& g : identifier->detect(text))
      guesses.push_back({{"language", g.language}, {"confidence", g.confidence}});
    return guesses;
  }

  json languages() const {
    return json::array({{{"code", TranslationService::kSource}, {"name", language_name(TranslationService::kSource)},
                         {"targets", {TranslationService::kTarget}}},
                        {{"code", TranslationService::kTarget}, {"name", language_name(TranslationService::kTarget)},
                         {"targets", json::array()}}});
  }

  json settings() const {
    const ServeOptions& o = service_.options();
    return {{"apiKeys", !o.server.api_key.empty()},
            {"keyRequired", !o.server.api_key.empty()},
            {"charLimit", o.max_characters},
            {"frontendTimeout", 500},
            {"suggestions", false},
            {"filesTranslation", true},
            {"supportedFilesFormat", {".txt"}},
            {"language",
             {{"source", {{"code", TranslationService::kSource}, {"name", language_name(TranslationService::kSource)}}},
              {"target", {{"code", TranslationService::kTarget}, {"name", language_name(TranslationService::kTarget)}}}}}};
  }

  // POST /translate_file: each line of the .txt translated (empty lines kept), groups of --max-sentences.
  json translate_file(const serve::Request& request, const serve::BodyFields& body) {
    const serve::FormPart* file = body.file("file");
    if (!file) throw HttpError(400, "Invalid request: missing file parameter (a multipart part named file, with a filename)");
    if (file->filename.size() < 4 || file->filename.substr(file->filename.size() - 4) != ".txt")
      throw HttpError(400, fmt::format("Invalid request: file format not supported: '{}' (supported: .txt)", file->filename));
    // The file is text, and held to --max-characters, whatever the languages (source = target included: its
    // lines come back as they were, so they must be what a download serves, UTF-8 text).
    if (const std::optional<size_t> bad = text::find_invalid_utf8(file->value))
      throw HttpError(400, fmt::format("Invalid request: the file is not UTF-8 text (byte {})", *bad));
    if (const int64_t characters = utf8_characters(file->value); characters > service_.options().max_characters)
      throw HttpError(400, fmt::format("{} characters in the file; the limit is {} (--max-characters)", characters,
                                       service_.options().max_characters));
    json fields = body.fields;
    fields["q"] = "";
    const LibreRequest r = parse_libretranslate(fields, service_.options().beam);
    check_language(r.target, "target");
    std::string source = r.source;
    if (source == "auto") source = detect_one(file->value).language;
    else check_language(source, "source");
    std::vector<std::string> lines;
    for (size_t at = 0; at <= file->value.size();) {
      const size_t end = std::min(file->value.find('\n', at), file->value.size());
      lines.push_back(file->value.substr(at, end - at));
      if (!lines.back().empty() && lines.back().back() == '\r') lines.back().pop_back();
      at = end + 1;
    }
    check_pair(source, r.target);
    if (source != r.target) {
      const size_t group = static_cast<size_t>(service_.options().max_sentences);
      for (size_t start = 0; start < lines.size(); start += group) {
        const std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(start),
                                            lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), start + group)));
        const std::vector<Translation> out = service_.translate(part, "file line", 1, false, request);
        for (size_t i = 0; i < out.size(); ++i) lines[start + i] = out[i].text;
      }
    }
    std::string translated;
    for (size_t i = 0; i < lines.size(); ++i) translated += (i ? "\n" : "") + lines[i];
    const std::string id = files_.put(file->filename, std::move(translated));
    // Host, checked by the server as a host[:port] (serve/http_message.h); an absolute target's authority first.
    const std::string host = !request.target_authority.empty() ? request.target_authority
                             : request.header("host").empty() ? "127.0.0.1"
                                                              : request.header("host");
    return {{"translatedFileUrl", fmt::format("http://{}/download_file/{}", host, id)}};
  }

  serve::Response download(const serve::Request& request) {
    serve::Response r;
    r.content_type = "text/plain; charset=utf-8";
    const std::string id = request.path.substr(std::string("/download_file/").size());
    r.body = files_.copy(id);
    const size_t dot = id.find('.');
    r.headers.emplace_back("Content-Disposition",
                           fmt::format("attachment; filename=\"{}\"", dot == std::string::npos ? id : id.substr(dot + 1)));
    return r;
  }

 private:
  void check_language(const std::string& code, const char* field) const {
    if (code != TranslationService::kSource && code != TranslationService::kTarget)
      throw HttpError(400, fmt::format("{} is not supported: this server's languages are {} and {} ({})", code,
                                       TranslationService::kSource, TranslationService::kTarget, field));
  }

  // A text in `source` for `target`: the model's pair, or the same language (answered as it was).
  static void check_pair(const std::string& source, const std::string& target) {
    if (source != target && (source != TranslationService::kSource || target != TranslationService::kTarget))
      throw HttpError(400, fmt::format("{} to {} is not supported: this model translates {} to {}", source, target,
                                       TranslationService::kSource, TranslationService::kTarget));
  }

  // The likeliest language of `text`; the model's source, confidence 0, without an identifier.
  LanguageIdentifier::Guess detect_one(const std::string& text) const {
    const LanguageIdentifier* identifier = service_.language_identifier();
    if (!identifier) return {TranslationService::kSource, 0.0};
    return identifier->detect(text).front();
  }

  TranslationService& service_;
  FileStore files_;
};

}  // namespace

void add_libretranslate_routes(serve::HttpServer& server, TranslationService& service) {
  auto api = std::make_shared<LibreTranslateApi>(service);
  const serve::RouteOptions metered{.body = serve::BodyRead::json_or_form, .needs_key = true};
  using serve::BodyFields;
  using serve::Request;
  server.route("POST", "/translate",
               [api](const Request& r, const BodyFields& b) { return serve::json_response(api->translate(r, b.fields)); },
               metered);
  server.route("POST", "/detect", [api](const Request&, const BodyFields& b) { return serve::json_response(api->detect(b.fields)); },
               metered);
  server.route("POST", "/translate_file",
               [api](const Request& r, const BodyFields& b) { return serve::json_response(api->translate_file(r, b)); }, metered);
  server.route("GET", "/download_file/*", [api](const Request& r, const BodyFields&) { return api->download(r); });
  // Some clients post their api_key to /languages: the body is not read.
  for (const char* method : {"GET", "POST"})
    server.route(method, "/languages", [api](const Request&, const BodyFields&) { return serve::json_response(api->languages()); });
  server.route("GET", "/frontend/settings", [api](const Request&, const BodyFields&) { return serve::json_response(api->settings()); });
}

}  // namespace tg::translate
