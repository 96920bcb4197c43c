#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = -x;  dx += -dy
Tensor neg(const Tensor& x);
inline Tensor operator-(const Tensor& x) { return neg(x); }
}  // namespace tg
