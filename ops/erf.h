#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = erf x = 2/√π ∫₀ˣ e^(-t²) dt;  dx += dy · 2/√π · e^(-x²)
Tensor erf(const Tensor& x);
}  // namespace tg
