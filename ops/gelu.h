#pragma once
#include "core/tensor/tensor.h"

namespace tg {

// PyTorch's `approximate` argument: 'none' (the erf form) or 'tanh'.
enum class GeluApproximation { none, tanh };

// none: y = x·Φ(x), Φ(x) = (1 + erf(x/√2)) / 2;   dx += dy · (Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2) / √(2π)
// tanh: y = x/2 · (1 + tanh(k(x + 0.044715x³))), k = √(2/π);
//       dx += dy · (½(1 + t) + ½x(1 − t²) · k(1 + 3·0.044715x²)),  t = tanh(k(x + 0.044715x³))
// Φ runs on the erf kernel (std::erf on the cpu): both forms equal PyTorch's
// F.gelu in float64 to 1e-12 or better (tests/test_surface_ops.cpp).
Tensor gelu(const Tensor& x, GeluApproximation approximate = GeluApproximation::none);

}  // namespace tg
