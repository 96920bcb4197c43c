#pragma once
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// y[..., i, ...] = x_i: inputs of one shape S joined along a new dimension
// `axis` (in the result, -1 = last): y has S with n inserted at axis.
//   dx_i += dy[..., i, ...]
Tensor stack(const std::vector<Tensor>& inputs, int axis = 0);
}  // namespace tg
