#pragma once
#include <cstdint>
#include <optional>

#include "core/tensor/tensor.h"

namespace tg {
// mask[b, t] = t < lengths[b]: true at the valid positions of a padded batch.
// lengths int64 (B); the mask is bool (B, max_len) on lengths' device;
// max_len defaults to the largest length. Not recorded.
//   masked_fill(scores, logical_not(sequence_mask(lengths, T)), -inf)
Tensor sequence_mask(const Tensor& lengths, std::optional<int64_t> max_len = std::nullopt);
}  // namespace tg
