#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// SiLU (swish): y = x · σ(x), as torch.nn.functional.silu;
//   dx += dy · σ(x) (1 + x (1 − σ(x)))
Tensor silu(const Tensor& x);
}  // namespace tg
