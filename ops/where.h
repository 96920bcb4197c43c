#pragma once
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = cond ? a : b elementwise, cond bool; all three broadcast together.
//   da += dy where cond, db += dy where !cond (each summed over its broadcast dims)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// With a number on one side (torch.where(cond, x, 0.0)): the number as a
// zero-dim tensor of the dtype x op number takes (core/types/scalar.h).
Tensor where(const Tensor& cond, const Tensor& a, Scalar b);
Tensor where(const Tensor& cond, Scalar a, const Tensor& b);
}  // namespace tg
