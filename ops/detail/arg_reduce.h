#pragma once
// Shared by argmax and argmin: the index of the first maximum along an axis.
#include "core/tensor/tensor.h"

namespace tg::detail {
// The first argmax of `x` (negated first when `negate`, for argmin) along
// `axis`, int64; checks name `op`. Integers and bools compare as float64
// (exact below 2^53).
Tensor arg_reduce(const char* op, const Tensor& x, int axis, bool keepdim, bool negate);
}  // namespace tg::detail
