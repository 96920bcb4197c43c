#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = log(1 + e^(βx)) / β, and y = x where βx > threshold (PyTorch's softplus);
//   dx += dy · σ(βx)   (dy where βx > threshold)
Tensor softplus(const Tensor& x, double beta = 1, double threshold = 20);
}  // namespace tg
