#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = softmax(x) along `axis` (default the last):  y_i = e^(x_i - max) / Σ_j e^(x_j - max)
//   dx += y ⊙ (dy - Σ_axis dy ⊙ y)
Tensor softmax(const Tensor& x, int axis = -1);
// y = log softmax(x) along `axis`:  y_i = x_i - max - ln Σ_j e^(x_j - max)
//   dx += dy - e^y ⊙ Σ_axis dy
Tensor log_softmax(const Tensor& x, int axis = -1);
}  // namespace tg
