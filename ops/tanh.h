#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = tanh(x);  dx += dy * (1 - y²)
Tensor tanh(const Tensor& x);
}  // namespace tg
