#include "nn/attention.h"

#include <limits>
#include <vector>

#include "core/services/error.h"
#include "ops/compare.h"
#include "ops/masked_fill.h"
#include "ops/matmul.h"
#include "ops/reshape.h"
#include "ops/softmax.h"

namespace tg::nn {

Attention::Attention(int64_t query_size, int64_t key_size, DType dtype)
    : query_size_(query_size), key_size_(key_size), dtype_(dtype) {
  if (!is_floating(dtype)) fail("Attention: dtype must be float32 or float64, got {}", dtype_name(dtype));
}

void Attention::check_keys(const Tensor& keys) const {
  const std::string name = type_name();
  check_defined(keys, name.c_str(), "keys");
  if (keys.ndim() != 3) fail("{}: keys must be (batch, source, {}), got {}", name, key_size_, keys.shape().str());
  if (keys.size(2) != key_size_) fail("{}: keys {} but key_size is {}", name, keys.shape().str(), key_size_);
  if (keys.dtype() != dtype_)
    fail("{}: keys are {} but the module is {}", name, dtype_name(keys.dtype()), dtype_name(dtype_));
}

void Attention::check_inputs(const Tensor& query, const Tensor& keys, const Tensor& projected_keys,
                             const Tensor& mask) const {
  const std::string name = type_name();
  check_keys(keys);
  const int64_t batch = keys.size(0);
  check_defined(query, name.c_str(), "query");
  if (query.ndim() != 2) fail("{}: query must be (batch, {}), got {}", name, query_size_, query.shape().str());
  if (query.size(1) != query_size_) fail("{}: query {} but query_size is {}", name, query.shape().str(), query_size_);
  if (query.size(0) != batch)
    fail("{}: query {} and keys {} have different batch sizes", name, query.shape().str(), keys.shape().str());
  if (query.dtype() != dtype_)
    fail("{}: query is {} but the module is {}", name, dtype_name(query.dtype()), dtype_name(dtype_));
  check_projected_keys_and_mask(keys, projected_keys, mask);
}

void Attention::check_projected_keys_and_mask(const Tensor& keys, const Tensor& projected_keys,
                                              const Tensor& mask) const {
  const std::string name = type_name();
  const int64_t batch = keys.size(0), source = keys.size(1);
  check_defined(projected_keys, name.c_str(), "projected_keys");
  const Shape expected_projected{batch, source, projected_size()};
  if (!(projected_keys.shape() == expected_projected))
    fail("{}: projected_keys must be {} (project_keys of keys {}), got {}", name, expected_projected.str(),
         keys.shape().str(), projected_keys.shape().str());

  if (!mask.defined()) return;
  if (mask.dtype() != DType::boolean)
    fail("{}: mask must be bool (true = valid position), got {} {}", name, dtype_name(mask.dtype()),
         mask.shape().str());
  if (!(mask.shape() == Shape{batch, source}))
    fail("{}: mask must be ({}, {}) for keys {}, got {}", name, batch, source, keys.shape().str(), mask.shape().str());
  // A row with no valid position would be 0/0 in the softmax; reject it.
  if (mask.is_same(checked_mask_)) return;
  const std::vector<int64_t> valid = mask.to_vector<int64_t>();
  for (int64_t b = 0; b < batch; ++b) {
    bool any = false;
    for (int64_t j = 0; j < source; ++j) any = any || valid[b * source + j] != 0;
    if (!any)
      fail("{}: mask row {} has no valid position (the mask is true at valid positions, false at padding)", name, b);
  }
  checked_mask_ = mask;
}

// α = softmax_j(mask ? score : -∞)   (B, S)
// context = α (B, 1, S) @ keys (B, S, Kd) -> (B, 1, Kd) -> (B, Kd)
AttentionResult Attention::attend(const Tensor& scores, const Tensor& keys, const Tensor& mask) {
  const Tensor masked =
      mask.defined() ? masked_fill(scores, eq(mask, 0.0), -std::numeric_limits<double>::infinity()) : scores;
  const Tensor weights = softmax(masked, -1);
  const Tensor context = squeeze(matmul(unsqueeze(weights, 1), keys), 1);
  return {context, weights};
}

}  // namespace tg::nn
