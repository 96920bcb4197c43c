#pragma once
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = xˢ (s a Scalar scalar);  dx += dy ⊙ s·xˢ⁻¹
Tensor pow(const Tensor& x, Scalar s);
}  // namespace tg
