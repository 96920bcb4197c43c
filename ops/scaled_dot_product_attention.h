#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {

// softmax(q kᵀ · scale + mask) v, as torch.nn.functional.scaled_dot_product_attention:
//   q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev); leading dims broadcast
//   scale      1/√E when 0
//   attn_mask  bool, true = takes part (PyTorch's SDPA convention; nn::MultiheadAttention's
//              is the opposite, as PyTorch's), or a float mask added to the scores;
//              broadcasting to (..., L, S); undefined: none
//   is_causal  position i attends to j <= i only (with no attn_mask)
// A row whose every position is masked gives nan, as PyTorch's.
// Two ways to compute it, with the same results (tests/test_multihead_attention.cpp):
//   fused     one node (kernels/dot_attention/): keeps q, k, v, the output and
//             one log-sum-exp per query row, never the (..., L, S) weights;
//             backward recomputes them row by row
//   composed  matmul, masked_fill, softmax, matmul: keeps the weights, runs
//             on matrix products (faster per element)
// The fused one runs on host backends, for q, k, v sharing their leading dims,
// where it keeps less: L·S > L·E + S·E + S·Ev + L·Ev (long sequences; a
// Transformer over sentences of 20-40 tokens with heads of 64 stays composed).
// AttentionPathScope chooses for a scope (tests, benchmarks).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask = {},
                                    bool is_causal = false, double scale = 0);

}  // namespace tg

namespace tg {

enum class AttentionPath { automatic, fused, composed };

// The attention path of this thread while the scope lives (nested scopes restore).
class AttentionPathScope {
 public:
  explicit AttentionPathScope(AttentionPath path);
  ~AttentionPathScope();
  AttentionPathScope(const AttentionPathScope&) = delete;
  AttentionPathScope& operator=(const AttentionPathScope&) = delete;

 private:
  AttentionPath previous_;
};

}  // namespace tg

namespace tg::detail {

// Whether attention of L queries over S keys (sizes E, Ev) on host tensors runs fused: the scope's
// choice, else whether the fused node keeps less (the rule above).
bool fused_attention_pays(int64_t L, int64_t S, int64_t E, int64_t Ev);

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
