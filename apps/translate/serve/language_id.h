#pragma once
// Which language a text is in, for LibreTranslate's POST /detect and
// "source": "auto": naive Bayes over the byte 1- to 4-grams of the
// lowercased text (padded with a space at each end), add-one smoothed,
// trained from sentences of each language it is to know. It knows only the
// languages it was given (translate train gives it the German and English
// training sides): every text is one of those.
//
// The file (save/load), JSON, written by `translate train` into the run
// folder as language_id.json and by `translate langid`:
//   {"format": "tapegrad.language_identifier",
//    "version": 1,
//    "languages": {
//      "de": {"sentences": 29000,
//             "grams": [[[gram, count], ...],    n = 1
//                       [[gram, count], ...],    n = 2
//                       [...], [...]]},          n = 3, 4
//      "en": {...}}}
// "sentences" is how many sentences the counts came from (for messages;
// detect does not read it). A gram is its n bytes as an unsigned big-endian
// integer (" d" is 0x2064 = 8292), listed once, ascending; a count is at
// least 1. The totals and the vocabulary are what the counts sum and list,
// so a file cannot contradict itself. A reader refuses another "format" or
// "version". JSON rather than a binary layout: the checks above are the
// parser's and a few lines, a damaged file is told apart from a foreign one,
// and the 1.2 MB of all of Multi30k loads in under a tenth of a second.
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tg::translate {

class LanguageIdentifier {
 public:
  void add(const std::string& language, const std::vector<std::string>& sentences);

  struct Guess {
    std::string language;
    double confidence;  // the posterior probability in percent (LibreTranslate's scale), 0..100
  };
  // Every language it knows, the most likely first; empty when it knows none.
  std::vector<Guess> detect(const std::string& text) const;
  std::vector<std::string> languages() const;
  // The sentences `add` has seen for `language` (0 for one it does not know).
  int64_t sentences(const std::string& language) const;

  // Written whole or not at all (a temporary file renamed over `path`);
  // refused for an identifier that knows no language, which no reader accepts.
  void save(const std::string& path) const;
  // tg::Error naming `path` and what was expected against what it holds, for
  // a missing, truncated, non-JSON, other-format or other-version file.
  static LanguageIdentifier load(const std::string& path);

  static constexpr const char* kFormat = "tapegrad.language_identifier";
  static constexpr int64_t kVersion = 1;

 private:
  struct Counts {
    std::unordered_map<uint32_t, int64_t> grams[4];  // n-gram (bytes packed) -> count, for n = 1..4
    int64_t totals[4] = {0, 0, 0, 0};
    int64_t sentences = 0;
  };
  std::map<std::string, Counts> counts_;
  std::unordered_set<uint32_t> vocabulary_[4];  // the distinct n-grams of all languages, per n
};

// The identifier's file for a checkpoint: language_id.json in its folder.
// One per run folder, as every checkpoint of a run (best, last, epoch-N,
// averages, int8 copies) was trained on the same text.
std::string language_identifier_path(const std::string& checkpoint);

// Learned from Multi30k's raw German and English training sides in `dir`
// (train.de.gz, train.en.gz), their first `limit` lines (0: all).
LanguageIdentifier learn_language_identifier(const std::string& dir, int64_t limit = 0);

}  // namespace tg::translate
