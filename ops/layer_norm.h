#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {
// Layer normalisation (Ba et al. 2016), as torch.nn.functional.layer_norm:
// over the last dims of x given by `normalized_shape` (D elements per row),
//   y = (x − μ) / √(σ² + ε) ⊙ weight + bias,   μ = mean, σ² = the biased variance (÷ D)
// weight and bias have normalized_shape (either may be undefined: no scale,
// no shift). On host backends one fused node (kernels/layer_norm/layer_norm.h) that
// saves x, μ and 1/σ:
//   dx = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / √(σ² + ε),  g = dy ⊙ weight,  x̂ = (x − μ)/√(σ² + ε)
// On a GPU (no CUDA body yet) it is recorded through its parts (mean, sub,
// mul, sqrt, div, add), whose gradients give the same.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
}  // namespace tg
