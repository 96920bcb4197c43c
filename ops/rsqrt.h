#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = 1 / √x, as torch.rsqrt (inf at 0, nan below);  dx += dy · (−½ x^(−3/2))
Tensor rsqrt(const Tensor& x);
}  // namespace tg
