#pragma once
#include <vector>

#include "core/tensor.h"

namespace tg {
// y = Σ x over all elements (a scalar);  dx += dy (broadcast)
Tensor sum(const Tensor& x);
// y = Σ x over `axes` (negative counts from the end); keepdim keeps them as size 1.
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
}  // namespace tg
