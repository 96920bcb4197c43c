#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// Products, as torch.cumprod and torch.prod:
//   cumprod: y[..., i, ...] = Π_{j ≤ i} x[..., j, ...] along dim
//   prod:    Π over one axis (keepdim as sum's), or over the whole tensor (zero-dim)
// Integers (int64, bool) give int64, exact (overflow refused). Floats are
// multiplied by log₂ n recorded shifted products (y *= y shifted by 1, 2,
// 4, ... along dim, ones shifted in), so the gradient comes from the tape:
// dx_i = dy · Π_{j≠i} x_j with no division, right where an x_j is zero.
Tensor cumprod(const Tensor& x, int dim);
Tensor prod(const Tensor& x);
Tensor prod(const Tensor& x, int axis, bool keepdim = false);
}  // namespace tg
