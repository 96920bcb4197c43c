#include "apps/translate/serve/language_id.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace tg::translate {

namespace {

// " text " lowercased (ASCII letters; other bytes as they are).
std::string padded(const std::string& text) {
  std::string out = " ";
  for (const char c : text) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out + " ";
}

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

}  // namespace tg::translate
