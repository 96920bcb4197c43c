#pragma once
// Additive (Bahdanau) attention, Bahdanau, Cho & Bengio 2015:
//   score_bj = vᵀ tanh(W_k h_j + b_k + W_q s_b)
//   α_b = softmax_j(score_b) (padded positions masked), context_b = Σ_j α_bj h_j
// keys h (B, S, Kd), query s (B, Qd); see nn/attention.h for the mask convention
// (true = valid) and the shared interface. The score is one fused op
// (ops/additive_score.h): no (B, S, A) tensor stays on the tape per step.
#include "core/services/generator.h"
#include "nn/attention.h"
#include "nn/linear.h"

namespace tg::nn {

class AdditiveAttention : public Attention {
 public:
  AdditiveAttention(int64_t query_size, int64_t key_size, int64_t attention_size, ModuleOptions options = {},
                    Generator& gen = default_generator());
  // Defaults, with a generator of one's own.
  AdditiveAttention(int64_t query_size, int64_t key_size, int64_t attention_size, Generator& gen)
      : AdditiveAttention(query_size, key_size, attention_size, ModuleOptions{}, gen) {}
  // The older form, the dtype as an argument.
  AdditiveAttention(int64_t query_size, int64_t key_size, int64_t attention_size, DType dtype,
                    Generator& gen = default_generator())
      : AdditiveAttention(query_size, key_size, attention_size, ModuleOptions{.dtype = dtype}, gen) {}

  // W_k h + b_k: keys (B, S, Kd) -> (B, S, A)
  Tensor project_keys(const Tensor& keys) const override;
  using Attention::forward;
  AttentionResult forward(const Tensor& query, const Tensor& keys, const Tensor& projected_keys,
                          const Tensor& mask) const override;
  // The same from a query projected elsewhere: projected_query (B, A) = W_q s
  // (decoding computes it with int8 weights).
  AttentionResult forward_projected(const Tensor& projected_query, const Tensor& keys, const Tensor& projected_keys,
                                    const Tensor& mask) const;
  int64_t projected_size() const override { return attention_size_; }
  int64_t attention_size() const { return attention_size_; }
  std::string type_name() const override { return "AdditiveAttention"; }

  Linear query_proj;  // W_q: weight (A, Qd), no bias
  Linear key_proj;    // W_k: weight (A, Kd), bias b_k (A,)
  Linear v;           // v:   weight (1, A), no bias

 private:
  int64_t attention_size_;
};

}  // namespace tg::nn
