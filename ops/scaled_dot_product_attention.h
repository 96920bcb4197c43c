#pragma once
#include "core/tensor.h"

namespace tg {

// softmax(q kᵀ · scale + mask) v, as torch.nn.functional.scaled_dot_product_attention:
//   q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev); leading dims broadcast
//   scale      1/√E when 0
//   attn_mask  bool, true = takes part (PyTorch's SDPA convention; nn::MultiheadAttention's
//              is the opposite, as PyTorch's), or a float mask added to the scores;
//              broadcasting to (..., L, S); undefined: none
//   is_causal  position i attends to j <= i only (with no attn_mask)
// A row whose every position is masked gives nan, as PyTorch's.
// Composed of matmul, masked_fill and softmax: the (..., L, S) scores of all
// heads are kept for backward (no fused, memory-saving kernel yet).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask = {},
                                    bool is_causal = false, double scale = 0);

}  // namespace tg
