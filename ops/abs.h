#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = |x|;  dx += dy · sign(x)   (0 at x = 0)
Tensor abs(const Tensor& x);
}  // namespace tg
