#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = x @ wᵀ + b, as torch.nn.functional.linear, in one node; b is written
// first and the product added onto it (no separate (..., N) tensor):
//   x (..., K), w (N, K) (PyTorch's (out, in) layout), b broadcast to
//   (..., N): a bias (N,), or e.g. a per-sentence (B, N) under x (T, B, K);
//   b undefined: no bias.
//   dx += dy @ w,  dw += dyᵀ @ x,  db += dy summed to b's shape
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());
}  // namespace tg
