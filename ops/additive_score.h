#pragma once
#include "core/tensor/tensor.h"

namespace tg {

// The scores of additive (Bahdanau) attention as one op, one tape node and
// one kernel each way:
//   keys (B, S, A) = W_k h + b_k, query (B, A) = W_q s, v (A)
//   score (B, S):  score_bs = Σ_a v_a tanh(keys_bsa + query_ba)
// Composed from add, tanh and matmul, the tape would keep two (B, S, A)
// tensors per decoder step; this op keeps none (backward recomputes tanh)
// and accumulates the keys' gradient of every step into one buffer.
Tensor additive_score(const Tensor& keys, const Tensor& query, const Tensor& v);

}  // namespace tg
