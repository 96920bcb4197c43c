#pragma once
// Multiplicative (Luong) attention, Luong, Pham & Manning 2015:
//   dot:      score_bj = s_bᵀ h_j          (query_size must equal key_size)
//   general:  score_bj = s_bᵀ W_a h_j      (W_a: Linear key_size -> query_size, no bias)
//   α_b = softmax_j(score_b) (padded positions masked), context_b = Σ_j α_bj h_j
// keys h (B, S, Kd), query s (B, Qd); see nn/attention.h for the mask convention
// (true = valid) and the shared interface.
#include <optional>

#include "core/services/generator.h"
#include "nn/attention.h"
#include "nn/linear.h"

namespace tg::nn {

enum class LuongScore { dot, general };

class LuongAttention : public Attention {
 public:
  LuongAttention(int64_t query_size, int64_t key_size, LuongScore score = LuongScore::dot, ModuleOptions options = {},
                 Generator& gen = default_generator());
  // Defaults, with a generator of one's own.
  LuongAttention(int64_t query_size, int64_t key_size, LuongScore score, Generator& gen)
      : LuongAttention(query_size, key_size, score, ModuleOptions{}, gen) {}
  // The older form, the dtype as an argument.
  LuongAttention(int64_t query_size, int64_t key_size, LuongScore score, DType dtype,
                 Generator& gen = default_generator())
      : LuongAttention(query_size, key_size, score, ModuleOptions{.dtype = dtype}, gen) {}

  // dot: the keys themselves (B, S, Kd);  general: W_a h (B, S, Qd)
  Tensor project_keys(const Tensor& keys) const override;
  using Attention::forward;
  AttentionResult forward(const Tensor& query, const Tensor& keys, const Tensor& projected_keys,
                          const Tensor& mask) const override;
  int64_t projected_size() const override { return query_size(); }
  LuongScore score() const { return score_; }
  std::string type_name() const override { return "LuongAttention"; }

  // W_a: weight (Qd, Kd), no bias; engaged for LuongScore::general only.
  std::optional<Linear> proj;

 private:
  LuongScore score_;
};

}  // namespace tg::nn
