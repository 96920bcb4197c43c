#pragma once
#include "core/tensor.h"

namespace tg {
// y[..., i, ...] = Σ_{j ≤ i} x[..., j, ...] along `dim`, as torch.cumsum.
//   dx[..., j, ...] += Σ_{i ≥ j} dy[..., i, ...]   (the reversed cumulative sum)
// Computed as one matrix product with the (n, n) upper-triangular ones matrix
// U (U[j, i] = [j ≤ i]): y = x U along dim, on any backend. That is n² work
// per row: meant for sequence-length axes, not for axes of 10⁵.
Tensor cumsum(const Tensor& x, int dim);
}  // namespace tg
