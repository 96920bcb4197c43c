#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = max(x, 0);  dx += dy ⊙ [x > 0]
Tensor relu(const Tensor& x);
}  // namespace tg
