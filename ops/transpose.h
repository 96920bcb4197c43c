#pragma once
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// y = x with dimensions reordered: y.shape[i] = x.shape[dims[i]]. A view.
//   dx += permute(dy, inverse(dims))
Tensor permute(const Tensor& x, const std::vector<int>& dims);
// Swaps two dimensions (a view).
Tensor transpose(const Tensor& x, int dim0, int dim1);
}  // namespace tg
