#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = x viewed with a new shape of the same element count (one size may be -1,
// inferred). A view when x is contiguous, else a copy.   dx += reshape(dy, x.shape)
Tensor reshape(const Tensor& x, const Shape& shape);
// Collapses dimensions start..end (inclusive) into one.
Tensor flatten(const Tensor& x, int start = 0, int end = -1);
// Inserts / removes a dimension of size 1.
Tensor unsqueeze(const Tensor& x, int axis);
Tensor squeeze(const Tensor& x, int axis);
}  // namespace tg
