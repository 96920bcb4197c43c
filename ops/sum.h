#pragma once
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// y = Σ x over all elements (a scalar);  dx += dy (broadcast)
Tensor sum(const Tensor& x);
// y = Σ x over `axes` (negative counts from the end); keepdim keeps them as size 1.
// bool and int64 tensors sum to int64 (a count, as PyTorch's; exact below 2^53, not recorded).
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
// One axis, as torch.sum(x, 1): sum(x, 1) is sum(x, {1}). (No axes at all,
// which sums nothing, is written sum(x, std::vector<int>{}).)
inline Tensor sum(const Tensor& x, int axis, bool keepdim = false) { return sum(x, std::vector<int>{axis}, keepdim); }
}  // namespace tg
