#pragma once
#include <vector>

#include "core/tensor.h"

namespace tg {
// y = (1/n) Σ x over all elements;  dx += dy / n
Tensor mean(const Tensor& x);
// y = (1/n) Σ x over `axes`, n the number of elements averaged.
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
}  // namespace tg
