#include "speech_decode.h"

#include "ops/ctc_decode.h"
#include "speech_data.h"

namespace speech {

namespace {

// The character model as the library's beam search asks for it: labels of the
// prefix's end in, ln P(character) out.
class CharScorer : public tg::CtcLabelScorer {
 public:
  explicit CharScorer(const CharLM& lm) : lm_(lm) {}
  int64_t context_size() const override { return lm_.order() - 1; }
  double score(const std::vector<int64_t>& context, int64_t label) const override {
    return lm_.log_prob(decode_ids(context), decode_ids({label})[0]);
  }
  double end_score(const std::vector<int64_t>& context) const override {
    return lm_.log_prob(decode_ids(context), CharLM::kEnd);
  }

 private:
  const CharLM& lm_;
};

}  // namespace

std::vector<int64_t> greedy_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes) {
  return tg::ctc_greedy_decode(log_probs.data(), frames, classes, kBlank);
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

}  // namespace speech
