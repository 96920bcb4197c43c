#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = sin x;  dx += dy · cos x
Tensor sin(const Tensor& x);
// y = cos x;  dx += dy · (−sin x)
Tensor cos(const Tensor& x);
}  // namespace tg
