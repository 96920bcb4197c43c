#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = index of the first maximum of x along `axis` (negative counts from the
// end), int64, x's shape without `axis` (size 1 there with keepdim).
// Float, int64 or bool x. Not differentiable: nothing is recorded.
Tensor argmax(const Tensor& x, int axis, bool keepdim = false);
}  // namespace tg
