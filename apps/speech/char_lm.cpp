#include "apps/speech/char_lm.h"

#include <cmath>

#include "core/services/error.h"
#include "apps/speech/speech_data.h"

namespace tg::speech {

namespace {
constexpr char kStart = '^';
// Space, apostrophe, a–z and the end: as many as the recogniser's classes (the end where it has the blank).
constexpr double kSymbols = static_cast<double>(kClasses);
}  // namespace

CharLM::CharLM(int64_t order) : order_(order) {
  if (order < 1) tg::fail("CharLM: order must be at least 1, got {}", order);
}

void CharLM::add(const std::string& sentence) {
  encode_text(sentence);  // throws naming a character the recogniser does not write
  const std::string padded = std::string(static_cast<size_t>(order_ - 1), kStart) + sentence + kEnd;
  for (size_t at = static_cast<size_t>(order_ - 1); at < padded.size(); ++at)
    for (int64_t length = 0; length < order_; ++length) {  // every context of the character at `at`
      const std::string context = padded.substr(at - static_cast<size_t>(length), static_cast<size_t>(length));
      if (ngrams_[context + padded[at]]++ == 0) ++contexts_[context].distinct;
      ++contexts_[context].total;
    }
}

double CharLM::prob(std::string_view context, char c) const {
  const double lower = context.empty() ? 1.0 / kSymbols : prob(context.substr(1), c);
  const auto it = contexts_.find(std::string(context));
  if (it == contexts_.end()) return lower;
  const auto seen = ngrams_.find(std::string(context) + c);
  const double count = seen == ngrams_.end() ? 0.0 : static_cast<double>(seen->second);
  const double total = static_cast<double>(it->second.total), distinct = static_cast<double>(it->second.distinct);
  return (count + distinct * lower) / (total + distinct);
}

double CharLM::log_prob(std::string_view text, char c) const {
  const size_t length = static_cast<size_t>(order_ - 1);
  std::string context(length > text.size() ? length - text.size() : 0, kStart);
  context += text.substr(text.size() > length ? text.size() - length : 0);
  return std::log(prob(context, c));
}

}  // namespace tg::speech
