#pragma once
#include "core/tensor.h"

namespace tg {
// y = cond ? a : b elementwise, cond bool; all three broadcast together.
//   da += dy where cond, db += dy where !cond (each summed over its broadcast dims)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
}  // namespace tg
