#pragma once
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// x with the order of its elements reversed along each of `axes`, as
// torch.flip (a copy). dx += dy flipped back.
Tensor flip(const Tensor& x, const std::vector<int>& axes);
}  // namespace tg
