#include "nn/additive_attention.h"

#include "core/services/error.h"
#include "ops/additive_score.h"
#include "ops/reshape.h"

namespace tg::nn {

namespace {
int64_t checked_attention_size(int64_t query_size, int64_t key_size, int64_t attention_size) {
  if (query_size <= 0 || key_size <= 0 || attention_size <= 0)
    fail("AdditiveAttention: sizes must be positive, got query_size={} key_size={} attention_size={}", query_size,
         key_size, attention_size);
  return attention_size;
}
}  // namespace

AdditiveAttention::AdditiveAttention(int64_t query_size, int64_t key_size, int64_t attention_size,
                                     ModuleOptions options, Generator& gen)
    : Attention(query_size, key_size, options.dtype),
      query_proj(query_size, checked_attention_size(query_size, key_size, attention_size), {.bias = false, .dtype = options.dtype}, gen),
      key_proj(key_size, attention_size, {.dtype = options.dtype}, gen),
      v(attention_size, 1, {.bias = false, .dtype = options.dtype}, gen),
      attention_size_(attention_size) {
  register_module("query_proj", query_proj);
  register_module("key_proj", key_proj);
  register_module("v", v);
}

// W_k h + b_k:  (B, S, Kd) -> (B, S, A)
Tensor AdditiveAttention::project_keys(const Tensor& keys) const {
  check_keys(keys);
  return key_proj(keys);
}

// score_bj = vᵀ tanh(W_k h_j + b_k + W_q s_b), one fused op (ops/additive_score.h):
// projected keys (B, S, A), projected query (B, A), v (A) -> scores (B, S)
AttentionResult AdditiveAttention::forward(const Tensor& query, const Tensor& keys, const Tensor& projected_keys,
                                           const Tensor& mask) const {
  check_inputs(query, keys, projected_keys, mask);
  const Tensor scores = additive_score(projected_keys, query_proj(query), flatten(v.weight));
  return attend(scores, keys, mask);
}

AttentionResult AdditiveAttention::forward_projected(const Tensor& projected_query, const Tensor& keys,
                                                     const Tensor& projected_keys, const Tensor& mask) const {
  check_keys(keys);
  check_defined(projected_query, "AdditiveAttention", "projected_query");
  if (projected_query.ndim() != 2 || projected_query.size(0) != keys.size(0) || projected_query.size(1) != attention_size_)
    fail("AdditiveAttention: projected_query must be ({}, {}) for keys {}, got {}", keys.size(0), attention_size_,
         keys.shape().str(), projected_query.shape().str());
  check_projected_keys_and_mask(keys, projected_keys, mask);
  const Tensor scores = additive_score(projected_keys, projected_query, flatten(v.weight));
  return attend(scores, keys, mask);
}

}  // namespace tg::nn
