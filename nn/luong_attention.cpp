#include "nn/luong_attention.h"

#include "core/services/error.h"
#include "ops/matmul.h"
#include "ops/reshape.h"

namespace tg::nn {

LuongAttention::LuongAttention(int64_t query_size, int64_t key_size, LuongScore score, ModuleOptions options,
                               Generator& gen)
    : Attention(query_size, key_size, options.dtype), score_(score) {
  check_parameter_dtype(options.dtype, "LuongAttention");
  if (query_size <= 0 || key_size <= 0)
    fail("LuongAttention: sizes must be positive, got query_size={} key_size={}", query_size, key_size);
  if (score == LuongScore::dot) {
    if (query_size != key_size)
      fail(
          "LuongAttention: the dot score needs query_size == key_size, got query_size={} key_size={} "
          "(use LuongScore::general to score across sizes)",
          query_size, key_size);
  } else {
    proj.emplace(key_size, query_size, LayerOptions{.bias = false, .dtype = options.dtype}, gen);
    register_module("proj", *proj);
  }
}

// dot: h (B, S, Kd);  general: W_a h (B, S, Kd) -> (B, S, Qd)
Tensor LuongAttention::project_keys(const Tensor& keys) const {
  check_keys(keys);
  return proj ? (*proj)(keys) : keys;
}

// score_bj = Σ_q (W_a h)_bjq s_bq:  (B, S, Qd) @ (B, Qd, 1) -> (B, S, 1) -> (B, S)
AttentionResult LuongAttention::forward(const Tensor& query, const Tensor& keys, const Tensor& projected_keys,
                                        const Tensor& mask) const {
  check_inputs(query, keys, projected_keys, mask);
  const Tensor scores = squeeze(matmul(projected_keys, unsqueeze(query, 2)), 2);
  return attend(scores, keys, mask);
}

}  // namespace tg::nn
