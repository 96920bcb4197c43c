#include "apps/speech/speech_decode.h"

#include <string>

#include "ops/ctc_decode.h"
#include "apps/speech/speech_data.h"

namespace tg::speech {

namespace {

// The character model as the library's beam search asks for it: labels of the
// prefix's end in, ln P(character) out.
class CharScorer : public tg::CtcLabelScorer {
 public:
  explicit CharScorer(const CharLM& lm) : lm_(lm) {
    for (int64_t c = 0; c < kClasses; ++c) symbols_ += c == kBlank ? ' ' : decode_ids({c})[0];
  }
  int64_t context_size() const override { return lm_.order() - 1; }
  double score(const std::vector<int64_t>& context, int64_t label) const override {
    return lm_.log_prob(text_of(context), symbols_[static_cast<size_t>(label)]);
  }
  double end_score(const std::vector<int64_t>& context) const override {
    return lm_.log_prob(text_of(context), CharLM::kEnd);
  }

 private:
  std::string text_of(const std::vector<int64_t>& labels) const {
    std::string text;
    for (const int64_t label : labels) text += symbols_[static_cast<size_t>(label)];
    return text;
  }
  const CharLM& lm_;
  std::string symbols_;  // the character of each class (the blank never occurs in a prefix)
};

}  // namespace

std::vector<int64_t> greedy_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes) {
  return tg::ctc_greedy_decode(log_probs.data(), frames, classes, kBlank);
}

std::vector<tg::CtcEmission> greedy_emissions(const std::vector<float>& log_probs, int64_t frames, int64_t classes) {
  return tg::ctc_greedy_emissions(log_probs.data(), frames, classes, kBlank);
}

std::vector<int64_t> prefix_beam_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes,
                                        int64_t width, const LMFusion& fusion) {
  if (fusion.lm == nullptr)
    return tg::ctc_prefix_beam_decode(log_probs.data(), frames, classes, {.width = width, .blank = kBlank});
  const CharScorer scorer(*fusion.lm);
  return tg::ctc_prefix_beam_decode(
      log_probs.data(), frames, classes,
      {.width = width, .blank = kBlank, .lm = &scorer, .lm_weight = fusion.weight, .bonus = fusion.bonus});
}

}  // namespace tg::speech
