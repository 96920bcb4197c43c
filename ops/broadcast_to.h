#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = x broadcast to `shape` (NumPy / PyTorch rules): the same view as
// expand(x, shape), -1 included.   dx += dy summed over the broadcast dimensions
Tensor broadcast_to(const Tensor& x, const Shape& shape);
}  // namespace tg
