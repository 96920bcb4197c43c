#pragma once
// Which language a text is in, for LibreTranslate's POST /detect and
// "source": "auto": naive Bayes over the byte 1- to 4-grams of the
// lowercased text (padded with a space at each end), add-one smoothed,
// trained from sentences of each language it is to know. It knows only the
// languages it was given (translate serve gives it Multi30k's German and
// English training sides): every text is one of those.
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

 private:
  struct Counts {
    std::unordered_map<uint32_t, int64_t> grams[4];  // n-gram (bytes packed) -> count, for n = 1..4
    int64_t totals[4] = {0, 0, 0, 0};
  };
  std::map<std::string, Counts> counts_;
  std::unordered_set<uint32_t> vocabulary_[4];  // the distinct n-grams of all languages, per n
};

}  // namespace tg::translate
