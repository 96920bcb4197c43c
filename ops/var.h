#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {
// Variance over `axis`, as torch.var(x, dim, correction=...):
//   var = Σ (x − mean)² / (n − correction)     (correction 1: the unbiased estimate, PyTorch's default)
//   dx += dy ⊙ 2 (x − mean) / (n − correction)
// n − correction must be positive (PyTorch would return nan or inf there).
Tensor var(const Tensor& x, int axis, int64_t correction = 1, bool keepdim = false);
// std = √var (same arguments).   dx += dy ⊙ (x − mean) / ((n − correction) · std)
Tensor std(const Tensor& x, int axis, int64_t correction = 1, bool keepdim = false);
// Over every element (a scalar), unbiased, as x.var() and x.std().
Tensor var(const Tensor& x);
Tensor std(const Tensor& x);
}  // namespace tg
