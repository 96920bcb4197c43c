#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = ln x;  dx += dy / x   (x ≤ 0 gives NaN / -inf, as in IEEE arithmetic)
Tensor log(const Tensor& x);
}  // namespace tg
