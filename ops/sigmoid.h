#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = σ(x) = 1 / (1 + e⁻ˣ);  dx += dy ⊙ y(1 - y)
Tensor sigmoid(const Tensor& x);
}  // namespace tg
