#pragma once
// The Transformer's encoder and decoder layers (Vaswani et al. 2017) with
// PyTorch's names, options and semantics (torch.nn.TransformerEncoderLayer,
// TransformerDecoderLayer), so a PyTorch state_dict loads by name:
//
//   self_attn.{in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias}
//   multihead_attn.*                       (decoder: attention over the memory)
//   linear1 (F, E), linear2 (E, F), norm1, norm2 (norm3 in the decoder)
//
// With sa(x) = dropout1(self_attn(x, x, x)), ca(x, m) = dropout2(multihead_attn(x, m, m)),
// ff(x) = dropout(linear2(dropout(act(linear1(x))))) (the decoder's last dropout is dropout3):
//   encoder, post-norm (default):  x = norm1(x + sa(x));  x = norm2(x + ff(x))
//   encoder, norm_first:           x = x + sa(norm1(x));  x = x + ff(norm2(x))
//   decoder, post-norm:  x = norm1(x + sa(x)); x = norm2(x + ca(x, m)); x = norm3(x + ff(x))
//   decoder, norm_first: x = x + sa(norm1(x)); x = x + ca(norm2(x), m); x = x + ff(norm3(x))
// Inputs are (T, N, E), (N, T, E) with batch_first, or unbatched (T, E).
// Masks follow nn::MultiheadAttention: key padding true = ignore, a bool
// attn_mask true = not allowed, a float one added to the scores.
#include <cstdint>
#include <string>

#include "core/services/generator.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/multihead_attention.h"

namespace tg::nn {

struct TransformerLayerOptions {
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";  // "relu" or "gelu" (exact)
  double layer_norm_eps = 1e-5;
  bool batch_first = false;
  bool norm_first = false;
  DType dtype = default_dtype();
};

// Masks for one attention of a layer.
struct LayerMasks {
  Tensor attn_mask;         // (L, S) or (N·H, L, S); undefined: none
  Tensor key_padding_mask;  // (N, S) bool, true = ignore; undefined: none
  bool is_causal = false;   // a causal mask instead of attn_mask
};

class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, TransformerLayerOptions options = {},
                          Generator& gen = default_generator());
  // src (S, N, E) -> (S, N, E) (layouts as above); mask = self-attention's masks.
  Tensor forward(const Tensor& src, const LayerMasks& mask = {}) const;
  Tensor operator()(const Tensor& src, const LayerMasks& mask = {}) const { return forward(src, mask); }
  std::string type_name() const override { return "TransformerEncoderLayer"; }
  const TransformerLayerOptions& options() const { return options_; }

  // ff(x) = dropout2(linear2(dropout(act(linear1(x))))), x (..., E) -> (..., E)
  Tensor feed_forward(const Tensor& x) const;

  MultiheadAttention self_attn;
  Linear linear1, linear2;
  LayerNorm norm1, norm2;
  Dropout dropout, dropout1, dropout2;

 private:
  TransformerLayerOptions options_;
};

class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(int64_t d_model, int64_t nhead, TransformerLayerOptions options = {},
                          Generator& gen = default_generator());
  // tgt (T, N, E), memory (S, N, E) -> (T, N, E).
  Tensor forward(const Tensor& tgt, const Tensor& memory, const LayerMasks& tgt_mask = {},
                 const LayerMasks& memory_mask = {}) const;
  Tensor operator()(const Tensor& tgt, const Tensor& memory, const LayerMasks& tgt_mask = {},
                    const LayerMasks& memory_mask = {}) const {
    return forward(tgt, memory, tgt_mask, memory_mask);
  }
  std::string type_name() const override { return "TransformerDecoderLayer"; }
  const TransformerLayerOptions& options() const { return options_; }

  // ff(x) = dropout3(linear2(dropout(act(linear1(x))))), x (..., E) -> (..., E)
  Tensor feed_forward(const Tensor& x) const;

  MultiheadAttention self_attn, multihead_attn;
  Linear linear1, linear2;
  LayerNorm norm1, norm2, norm3;
  Dropout dropout, dropout1, dropout2, dropout3;

 private:
  TransformerLayerOptions options_;
};

// attention(query, key_value, key_value) with `masks`, its output only (no weights).
Tensor attention_output(const MultiheadAttention& attention, const Tensor& query, const Tensor& key_value,
                        const LayerMasks& masks);

// The activation a layer's options name: "relu" or "gelu".
Tensor activation(const std::string& name, const Tensor& x);

}  // namespace tg::nn
