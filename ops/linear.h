#pragma once
#include "core/tensor.h"

namespace tg {
// y = x @ w + b in one node, b written first and the product added onto it
// (no separate (..., N) tensor for x @ w):
//   x (..., K), w (K, N) (e.g. a transposed weight view), b broadcast to
//   (..., N): a bias (N,), or e.g. a per-sentence (B, N) under x (T, B, K)
//   dx += dy @ wᵀ,  dw += xᵀ @ dy,  db += dy summed to b's shape
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);
}  // namespace tg
