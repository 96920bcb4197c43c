#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// The coordinates of x's non-zero elements (NaN counts as non-zero), one row
// each in row-major order, as torch.nonzero: int64 (n, x.ndim()); a zero-dim
// x gives (1, 0) or (0, 0). Not differentiable.
Tensor nonzero(const Tensor& x);
}  // namespace tg
