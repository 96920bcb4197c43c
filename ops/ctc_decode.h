#pragma once
// Decoding a CTC model's output (the counterpart of ctc_loss): log-probability
// rows (T, C) of one sequence, class `blank` the blank, to labels.
//
// greedy: the most likely class per frame, repeats merged, blanks dropped.
// prefix beam search (Hannun et al. 2014): the `width` best label prefixes,
// each scored by the sum over the alignments that spell it; with a language
// model (shallow fusion) a prefix y ranks by
//   ln P_ctc(y) + lm_weight · ln P_lm(y) + bonus · |y|
// and the end of the sequence's probability joins at the last frame.
// Each frame costs O(width · (C + width)) however long the prefixes: they are
// shared in a trie, a beam is one node (linear in the frames: 30 minutes of
// speech at width 8 decode in a fraction of a second).
//
//   std::vector<int64_t> labels = tg::ctc_prefix_beam_decode(log_probs, {.width = 8});
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {

// The language model's hook: ln P(label | the prefix's last labels).
class CtcLabelScorer {
 public:
  virtual ~CtcLabelScorer() = default;
  // How many of the prefix's last labels score() reads (an n-gram model: n − 1).
  virtual int64_t context_size() const = 0;
  // context: at most context_size() labels, oldest first (fewer at the start).
  virtual double score(const std::vector<int64_t>& context, int64_t label) const = 0;
  // ln P(the sequence ends | context).
  virtual double end_score(const std::vector<int64_t>& context) const = 0;
};

struct CtcBeamOptions {
  int64_t width = 8;
  int64_t blank = 0;
  const CtcLabelScorer* lm = nullptr;   // none: CTC's scores alone (and no bonus)
  double lm_weight = 0.5, bonus = 1.0;  // with lm: the ranking above
  float prune = -9.2f;                  // a label below ln 1e-4 at a frame cannot lead a beam there
};

// log_probs (T, C), float32 or float64, on any device (read back to the host);
// the first `frames` rows (-1: all T).
std::vector<int64_t> ctc_greedy_decode(const Tensor& log_probs, int64_t frames = -1, int64_t blank = 0);
std::vector<int64_t> ctc_prefix_beam_decode(const Tensor& log_probs, const CtcBeamOptions& options = {},
                                            int64_t frames = -1);

// The same on host rows (row-major frames × classes) a caller holds already.
std::vector<int64_t> ctc_greedy_decode(const float* rows, int64_t frames, int64_t classes, int64_t blank = 0);
// Where the greedy path emits: each of ctc_greedy_decode's labels with the
// frame its run starts (an alignment to draw or to time characters by).
struct CtcEmission {
  int64_t frame, label;
};
std::vector<CtcEmission> ctc_greedy_emissions(const float* rows, int64_t frames, int64_t classes, int64_t blank = 0);
std::vector<int64_t> ctc_prefix_beam_decode(const float* rows, int64_t frames, int64_t classes,
                                            const CtcBeamOptions& options);

}  // namespace tg
