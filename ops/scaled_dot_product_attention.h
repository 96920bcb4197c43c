#pragma once
#include <cstdint>

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
// On host backends, when q, k and v share their leading dims, one fused node
// (kernels/dot_attention/): it keeps q, k, v, the output and one log-sum-exp
// per query row, never the (..., L, S) weights, and backward recomputes them.
// Elsewhere (a GPU: no CUDA body yet; broadcast leading dims) it is composed
// of matmul, masked_fill and softmax, which keep the weights.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask = {},
                                    bool is_causal = false, double scale = 0);

}  // namespace tg

namespace tg::detail {

// The fused node itself (kernels/dot_attention/dot_attention.h), for host tensors:
// q (B, L, D), k (B, S, D), v (B, S, Dv) -> (B, L, Dv), B = batch × heads;
// bias (1 or B, L, S) and key_bias (B / heads, S) additive (undefined: none),
// dropout p on the weights with masks drawn from `key` (as ops/dropout.h's).
struct FusedAttention {
  Tensor bias, key_bias;
  bool causal = false;
  int64_t heads = 1;
  double scale = 1, dropout = 0;
  uint64_t key = 0;
};
Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, const FusedAttention& options);

}  // namespace tg::detail
