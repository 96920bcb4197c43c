#pragma once
// Logical operations on bool tensors (masks). They broadcast like add and are
// not differentiable: nothing is recorded. Non-bool operands throw (build a
// mask with eq, lt, ... first).
#include "core/tensor/tensor.h"

namespace tg {
// y = !a
Tensor logical_not(const Tensor& a);
// y = a && b
Tensor logical_and(const Tensor& a, const Tensor& b);
// y = a || b
Tensor logical_or(const Tensor& a, const Tensor& b);
}  // namespace tg
