#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y[..., i, ...] = Σ_{j ≤ i} x[..., j, ...] along `dim`, as torch.cumsum, on
// any rank (a 1-D tensor included):
//   dx[..., j, ...] += Σ_{i ≥ j} dy[..., i, ...]   (the reversed cumulative sum)
// Integers (int64, bool) give int64, summed exactly. Floats are summed by
// log₂ n recorded shifted additions (y += y shifted by 1, 2, 4, ... along
// dim: Hillis and Steele's scan), so the gradient comes from the tape and any
// backend runs it: n log n work, and sums in another order than a running
// total (the same to rounding).
Tensor cumsum(const Tensor& x, int dim);
}  // namespace tg
