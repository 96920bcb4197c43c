#pragma once
#include <vector>

#include "core/autograd/tape.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = [x_0 | x_1 | ...] joined along `axis`; all inputs have the same rank and
// the same sizes except along `axis`.   dx_i += dy[..., offset_i : offset_i + n_i, ...]
Tensor concat(const std::vector<Tensor>& inputs, int axis);
// PyTorch's name for it.
inline Tensor cat(const std::vector<Tensor>& inputs, int axis = 0) { return concat(inputs, axis); }
}  // namespace tg
