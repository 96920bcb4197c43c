#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = mask ? value : x, mask bool broadcasting to x's shape (y has x's shape).
//   dx += mask ? 0 : dy
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
}  // namespace tg
