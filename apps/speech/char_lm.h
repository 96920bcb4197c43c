#pragma once
// A character n-gram language model for the recogniser's beam search, with
// interpolated Witten-Bell smoothing (Witten & Bell 1991; Chen & Goodman 1998
// §2.4). Over the recogniser's characters (space, apostrophe, a–z) and an end
// of sentence; a context is the previous order − 1 characters, sentence
// starts padded:
//
//   P(c | h) = (C(h c) + N(h) · P(c | h⁻)) / (C(h) + N(h))
//
// C counts in the training text, N(h) the distinct characters seen after h,
// h⁻ the context one character shorter, and P(c | ∅-context) interpolates
// with the uniform 1/29. An unseen context (C(h) = 0) backs off fully.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tg::speech {

class CharLM {
 public:
  explicit CharLM(int64_t order);
  // One sentence of lowercase letters, spaces and apostrophes; throws otherwise.
  void add(const std::string& sentence);
  int64_t order() const { return order_; }
  // ln P(c | the last order − 1 characters of `text`); c = kEnd for the end of the sentence.
  double log_prob(std::string_view text, char c) const;
  static constexpr char kEnd = '$';

 private:
  struct Context {
    int64_t total = 0, distinct = 0;
  };
  double prob(std::string_view context, char c) const;
  int64_t order_;
  std::unordered_map<std::string, int64_t> ngrams_;   // context + next character
  std::unordered_map<std::string, Context> contexts_;
};

}  // namespace tg::speech
