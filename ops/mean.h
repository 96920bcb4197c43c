#pragma once
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// y = (1/n) Σ x over all elements;  dx += dy / n
Tensor mean(const Tensor& x);
// y = (1/n) Σ x over `axes`, n the number of elements averaged.
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
// One axis, as torch.mean(x, 1): mean(x, 1) is mean(x, {1}).
inline Tensor mean(const Tensor& x, int axis, bool keepdim = false) { return mean(x, std::vector<int>{axis}, keepdim); }
}  // namespace tg
