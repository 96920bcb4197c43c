#pragma once
// CTC decoding of one utterance's log-probabilities (T', classes), row-major:
// the library's (ops/ctc_decode.h) with the recogniser's blank and its
// character language model.
//
// greedy: the most likely class per frame, repeats merged, blanks dropped.
// prefix beam search (Hannun et al. 2014): the `width` best label prefixes,
// each scored by the sum over the alignments that spell it; with a character
// language model (shallow fusion) a prefix y ranks by
//   ln P_ctc(y) + weight · ln P_lm(y) + bonus · |y|
// and the end of the sentence's probability joins at the last frame.
#include <cstdint>
#include <vector>

#include "apps/speech/char_lm.h"
#include "ops/ctc_decode.h"

namespace tg::speech {

struct LMFusion {
  const CharLM* lm = nullptr;  // none: CTC's scores alone
  double weight = 0.5, bonus = 1.0;
};

std::vector<int64_t> greedy_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes);
// The greedy path's characters with the output frame where each run starts (tg::ctc_greedy_emissions).
std::vector<tg::CtcEmission> greedy_emissions(const std::vector<float>& log_probs, int64_t frames, int64_t classes);
std::vector<int64_t> prefix_beam_decode(const std::vector<float>& log_probs, int64_t frames, int64_t classes,
                                        int64_t width, const LMFusion& fusion = {});

}  // namespace tg::speech
