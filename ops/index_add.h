#pragma once
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// torch.index_add(x, dim, index, source, alpha=1), out of place: y = x, then
//   y[..., index[k], ...] += alpha · source[..., k, ...]   along dim
// index int64, 1-D (or zero-dim: one entry), values in [0, x.size(dim)),
// repeats adding up; source has x's shape but index's length along dim.
//   dx += dy,  dsource[..., k, ...] += alpha · dy[..., index[k], ...]
// Floating x and source of one dtype (PyTorch also adds integers).
Tensor index_add(const Tensor& x, int dim, const Tensor& index, const Tensor& source, double alpha = 1);
}  // namespace tg
