#pragma once
#include "core/tensor.h"

namespace tg {
// y = xˢ (s a double scalar);  dx += dy ⊙ s·xˢ⁻¹
Tensor pow(const Tensor& x, double s);
}  // namespace tg
