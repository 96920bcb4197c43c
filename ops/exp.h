#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = eˣ;  dx += dy ⊙ y
Tensor exp(const Tensor& x);
}  // namespace tg
