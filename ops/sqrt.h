#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = √x;  dx += dy / (2y)
Tensor sqrt(const Tensor& x);
}  // namespace tg
