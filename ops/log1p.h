#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = log(1 + x), accurate for small |x|;  dx += dy / (1 + x)
Tensor log1p(const Tensor& x);
}  // namespace tg
