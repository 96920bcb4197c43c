#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = x seen with `shape` (a view, no copy): each size-1 dimension of x may
// grow to any size, new dimensions may be added in front, -1 keeps x's size;
// the grown dimensions have stride 0, so y shares x's storage.
//   dx += dy summed over the grown dimensions
// Writing into y writes the shared elements: copy it (contiguous()) first.
Tensor expand(const Tensor& x, const Shape& shape);
}  // namespace tg
