#pragma once
// Additive (Bahdanau) attention scores without keeping the (B, S, A) sum
// (ops/additive_score.h): projected keys k (B, S, A), projected query
// q (B, A), v (A), score (B, S), all of the keys' float dtype, last axes
// unit-strided:
//   score_bs = Σ_a v_a tanh(k_bsa + q_ba)
// Backward, given dscore (B, S), recomputes t = tanh(k + q) and accumulates (+=):
//   dk_bsa += dscore_bs v_a (1 − t_bsa²),  dq_ba += Σ_s dk's term,  dv_a += Σ_bs dscore_bs t_bsa
// Any of dkeys, dquery, dv may be absent (data null: no gradient wanted).
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct AdditiveScoreArgs {
  View keys, query, v, score;
};
struct AdditiveScoreBackwardArgs {
  View keys, query, v, dscore;
  View dkeys, dquery, dv;  // data == nullptr: not wanted
};

KernelTable<AdditiveScoreArgs>& additive_score_table();
KernelTable<AdditiveScoreBackwardArgs>& additive_score_backward_table();

inline void additive_score(Backend& backend, const AdditiveScoreArgs& args) {
  additive_score_table().run(backend, args);
}
inline void additive_score_backward(Backend& backend, const AdditiveScoreBackwardArgs& args) {
  additive_score_backward_table().run(backend, args);
}

}  // namespace tg::kernels
