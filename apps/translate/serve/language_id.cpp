#include "apps/translate/serve/language_id.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "core/services/ascii.h"
#include "core/services/error.h"
#include "data/text/corpus.h"
#include "io/text_file.h"

namespace tg::translate {

namespace {

using nlohmann::json;

// " text " lowercased (ASCII letters; other bytes as they are).
std::string padded(const std::string& text) { return " " + ascii_lowercase(text) + " "; }

// Calls f(n, gram) for each n-gram, n = 1..4, of `text`'s bytes.
template <class F>
void for_each_gram(const std::string& text, F f) {
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t gram = 0;
    for (size_t n = 1; n <= 4 && i + n <= text.size(); ++n) {
      gram = (gram << 8) | static_cast<unsigned char>(text[i + n - 1]);
      f(n - 1, gram);
    }
  }
}

}  // namespace

void LanguageIdentifier::add(const std::string& language, const std::vector<std::string>& sentences) {
  Counts& c = counts_[language];
  c.sentences += static_cast<int64_t>(sentences.size());
  for (const std::string& s : sentences) for_each_gram(padded(s), [&](size_t n, uint32_t gram) {
      ++c.grams[n][gram];
      ++c.totals[n];
      vocabulary_[n].insert(gram);
    });
}

std::vector<std::string> LanguageIdentifier::languages() const {
  std::vector<std::string> out;
  for (const auto& [language, unused] : counts_) out.push_back(language);
  return out;
}

int64_t LanguageIdentifier::sentences(const std::string& language) const {
  const auto it = counts_.find(language);
  return it == counts_.end() ? 0 : it->second.sentences;
}

std::vector<LanguageIdentifier::Guess> LanguageIdentifier::detect(const std::string& text) const {
  // log P(text | language) = sum over its n-grams of log((count + 1) / (total + distinct)), the distinct
  // n-grams counted over all languages (one vocabulary per n).
  std::vector<std::pair<std::string, double>> scores;
  const std::string t = padded(text);
  for (const auto& entry : counts_) {
    const Counts& c = entry.second;  // a named reference: clang 14 cannot capture a structured binding
    double log_likelihood = 0;
    for_each_gram(t, [&](size_t n, uint32_t gram) {
      const auto it = c.grams[n].find(gram);
      const double count = it == c.grams[n].end() ? 0.0 : static_cast<double>(it->second);
      log_likelihood += std::log((count + 1.0) / static_cast<double>(c.totals[n] + static_cast<int64_t>(vocabulary_[n].size())));
    });
    scores.emplace_back(entry.first, log_likelihood);
  }
  // Equal priors: the posterior is the softmax of the log-likelihoods.
  double best = -INFINITY;
  for (const auto& [unused, s] : scores) best = std::max(best, s);
  double sum = 0;
  for (auto& [unused, s] : scores) sum += (s = std::exp(s - best));
  std::vector<Guess> guesses;
  for (const auto& [language, p] : scores) guesses.push_back({language, std::round(1000.0 * p / sum) / 10.0});
  std::stable_sort(guesses.begin(), guesses.end(), [](const Guess& a, const Guess& b) { return a.confidence > b.confidence; });
  return guesses;
}

namespace {

// Far more than any corpus gives, and far enough from INT64_MAX that detect's sums cannot overflow.
constexpr int64_t kMostGrams = int64_t{1} << 62;

// At most 80 bytes of `value` as JSON, for messages about a file that may hold anything.
std::string shown(const json& value) {
  const std::string text = value.dump();
  return text.size() <= 80 ? text : text.substr(0, 77) + "...";
}

// What one file is checked against: each refusal names the file, the place in it, what was expected and what
// was there.
class IdentifierReader {
 public:
  explicit IdentifierReader(const std::string& path) : path_(path) {}

  [[noreturn]] void refuse(const std::string& where, const std::string& expected, const std::string& got) const {
    fail("'{}' is not a language identifier file this build reads: {}: expected {}, got {}", path_, where, expected, got);
  }

  const json& field(const json& object, const std::string& where, const char* name) const {
    const auto it = object.find(name);
    if (it == object.end()) refuse(where, fmt::format("a field \"{}\"", name), "none");
    return *it;
  }

  int64_t count_at(const json& value, const std::string& where, uint64_t least) const {
    if (!value.is_number_unsigned() || value.get<uint64_t>() < least ||
        value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      refuse(where, fmt::format("an integer of at least {}", least), shown(value));
    return static_cast<int64_t>(value.get<uint64_t>());
  }

 private:
  const std::string& path_;
};

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read the language identifier '{}': {}", path, std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("cannot read the language identifier '{}': {}", path, std::strerror(errno));
  return text;
}

}  // namespace

void LanguageIdentifier::save(const std::string& path) const {
  if (counts_.empty()) fail("cannot save a language identifier that knows no language to '{}'", path);
  nlohmann::ordered_json languages = nlohmann::ordered_json::object();
  for (const auto& [language, c] : counts_) {
    nlohmann::ordered_json grams = nlohmann::ordered_json::array();
    for (const auto& counts : c.grams) {
      std::vector<std::pair<uint32_t, int64_t>> ascending(counts.begin(), counts.end());  // the same file every time
      std::sort(ascending.begin(), ascending.end());
      grams.push_back(ascending);
    }
    languages[language] = {{"sentences", c.sentences}, {"grams", std::move(grams)}};
  }
  const nlohmann::ordered_json document = {{"format", kFormat}, {"version", kVersion}, {"languages", std::move(languages)}};
  std::string text;
  try {
    text = document.dump() + "\n";
  } catch (const json::exception&) {
    fail("cannot save the language identifier to '{}': a language name is not UTF-8", path);
  }
  write_text_file(path, text);
}

LanguageIdentifier LanguageIdentifier::load(const std::string& path) {
  const std::string text = read_whole_file(path);
  const IdentifierReader reader(path);
  const std::string expected = fmt::format("a JSON object {{\"format\": \"{}\", \"version\": {}, ...}}", kFormat, kVersion);
  if (text.empty()) reader.refuse("the whole file", expected, "an empty file");
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    if (e.byte > text.size())
      reader.refuse("the whole file", expected, fmt::format("{} bytes that end before the JSON does (truncated)", text.size()));
    const std::string what = e.what();
    const size_t detail = what.find("] ");  // nlohmann's "[json.exception.parse_error.101] " prefix
    reader.refuse("the whole file", expected,
                  fmt::format("text that is not JSON ({})", detail == std::string::npos ? what : what.substr(detail + 2)));
  }
  if (!document.is_object()) reader.refuse("the whole file", expected, fmt::format("a JSON {}", document.type_name()));
  const json& format = reader.field(document, "the document", "format");
  if (format != kFormat) reader.refuse("\"format\"", json(kFormat).dump(), shown(format));
  const json& version = reader.field(document, "the document", "version");
  if (version != kVersion) reader.refuse("\"version\"", std::to_string(kVersion), shown(version));

  LanguageIdentifier identifier;
  const json& languages = reader.field(document, "the document", "languages");
  if (!languages.is_object() || languages.empty())
    reader.refuse("\"languages\"", "an object of at least one language", shown(languages));
  for (const auto& [language, entry] : languages.items()) {
    const std::string where = "languages." + language;
    if (language.empty()) reader.refuse("\"languages\"", "language names that are not empty", "\"\"");
    if (!entry.is_object()) reader.refuse(where, "an object {\"sentences\", \"grams\"}", shown(entry));
    Counts& c = identifier.counts_[language];
    c.sentences = reader.count_at(reader.field(entry, where, "sentences"), where + ".sentences", 0);
    const json& grams = reader.field(entry, where, "grams");
    if (!grams.is_array() || grams.size() != 4) reader.refuse(where + ".grams", "4 lists (n = 1 to 4)", shown(grams));
    for (size_t n = 0; n < 4; ++n) {
      const std::string list_where = fmt::format("{}.grams[{}]", where, n);
      if (!grams[n].is_array()) reader.refuse(list_where, "a list of [gram, count]", shown(grams[n]));
      const uint64_t largest = (uint64_t{1} << (8 * (n + 1))) - 1;
      int64_t previous = -1;
      for (size_t i = 0; i < grams[n].size(); ++i) {
        const json& pair = grams[n][i];
        const std::string pair_where = fmt::format("{}[{}]", list_where, i);
        const std::string wanted = fmt::format("[gram, count]: a gram of {} byte{} (0 to {}) above the one before, a "
                                               "count of at least 1",
                                               n + 1, n ? "s" : "", largest);
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_unsigned() || pair[0].get<uint64_t>() > largest ||
            static_cast<int64_t>(pair[0].get<uint64_t>()) <= previous)
          reader.refuse(pair_where, wanted, shown(pair));
        const auto gram = static_cast<uint32_t>(pair[0].get<uint64_t>());
        const int64_t count = reader.count_at(pair[1], pair_where, 1);
        if (__builtin_add_overflow(c.totals[n], count, &c.totals[n]) || c.totals[n] > kMostGrams)
          reader.refuse(list_where, fmt::format("counts that sum to at most {}", kMostGrams), "more");
        c.grams[n].emplace(gram, count);
        identifier.vocabulary_[n].insert(gram);
        previous = gram;
      }
    }
  }
  return identifier;
}

std::string language_identifier_path(const std::string& checkpoint) {
  return (std::filesystem::path(checkpoint).parent_path() / "language_id.json").string();
}

LanguageIdentifier learn_language_identifier(const std::string& dir, int64_t limit) {
  LanguageIdentifier identifier;
  for (const char* language : {"de", "en"}) {
    std::vector<std::string> lines = text::read_lines(fmt::format("{}/train.{}.gz", dir, language));
    if (limit > 0 && static_cast<int64_t>(lines.size()) > limit) lines.resize(static_cast<size_t>(limit));
    identifier.add(language, lines);
  }
  return identifier;
}

}  // namespace tg::translate
