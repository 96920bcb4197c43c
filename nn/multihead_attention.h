#pragma once
// Multi-head attention with PyTorch's semantics and parameter names
// (torch.nn.MultiheadAttention), so a PyTorch state_dict loads by name:
//
//   in_proj_weight (3E, E), in_proj_bias (3E)       when kdim = vdim = E
//   q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim), in_proj_bias (3E) otherwise
//   out_proj.weight (E, E), out_proj.bias (E)
//
//   query (L, N, E), key (S, N, kdim), value (S, N, vdim) -> output (L, N, E)
//   (N first with batch_first; unbatched (L, E) as well)
//   heads h = 1..H of size D = E/H:  softmax(q_h k_hᵀ / √D + masks) v_h, joined, then out_proj
//   key_padding_mask (N, S) bool, true = ignore that key (PyTorch's)
//   attn_mask (L, S) or (N·H, L, S): bool, true = not allowed; or float, added to the scores
//   weights: (N, L, S) averaged over heads, or (N, H, L, S) per head; undefined unless need_weights
// bias_k, bias_v and add_zero_attn are not supported. Without need_weights, on
// host backends, the heads run in the fused kernel of kernels/dot_attention/
// where it keeps less (ops/scaled_dot_product_attention.h's rule: long
// sequences): no (N, H, L, S) weights kept, the same dropout masks as the
// composed form.
#include <cstdint>

#include "core/services/generator.h"
#include "nn/dropout_stream.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace tg::nn {

struct MultiheadAttentionOptions {
  double dropout = 0;        // on the attention weights, in training
  bool bias = true;          // in_proj_bias and out_proj.bias
  int64_t kdim = 0, vdim = 0;  // 0: embed_dim
  bool batch_first = false;
  DType dtype = default_dtype();
};

struct AttentionMasks {
  Tensor key_padding_mask;  // (N, S) bool, true = ignore; undefined: none
  Tensor attn_mask;         // (L, S) or (N·H, L, S); bool true = not allowed, or float added; undefined: none
  bool need_weights = true;
  bool average_attn_weights = true;
  bool is_causal = false;   // position i attends to j <= i (with no attn_mask)
};

struct MultiheadAttentionOutput {
  Tensor output;   // (L, N, E) ((N, L, E) with batch_first; (L, E) unbatched)
  Tensor weights;  // (N, L, S) or (N, H, L, S) ((L, S) / (H, L, S) unbatched); undefined unless need_weights
};

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, MultiheadAttentionOptions options = {},
                     Generator& gen = default_generator());
  MultiheadAttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const AttentionMasks& masks = {}) const;
  MultiheadAttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                                      const AttentionMasks& masks = {}) const {
    return forward(query, key, value, masks);
  }
  std::string type_name() const override { return "MultiheadAttention"; }

  // The pieces of forward, for callers that cache keys and values (a decoder
  // stepping one position at a time): x (..., E_in) -> (..., E), the query
  // (part 0), key (1) or value (2) projection with its bias.
  Tensor in_projection(const Tensor& x, int part) const;
  // Attention of projected, time-major q (L, N, E) over k, v (S, N, E), then
  // out_proj: output (L, N, E), weights as forward's batched ones. `batched`
  // only says which key_padding_mask shape to expect ((N, S), or (S) when false).
  MultiheadAttentionOutput attend(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionMasks& masks,
                                  bool batched = true) const;

  int64_t embed_dim() const { return embed_dim_; }
  int64_t num_heads() const { return num_heads_; }

  Tensor in_proj_weight;                              // (3E, E) when kdim = vdim = E
  Tensor q_proj_weight, k_proj_weight, v_proj_weight;  // otherwise
  Tensor in_proj_bias;                                // (3E), undefined without bias
  Linear out_proj;

 protected:
  void reseed_own(uint64_t seed) override { dropout_.seed_with(seed); }

 private:
  int64_t embed_dim_, num_heads_, kdim_, vdim_;
  MultiheadAttentionOptions options_;
  DropoutStream dropout_;  // the attention weights' masks in training
};

}  // namespace tg::nn
