#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// torch.nn.functional.one_hot: int64 indices of any shape -> int64 (..., num_classes)
// with a 1 at each index; num_classes -1 means the largest index + 1. An index
// outside [0, num_classes) is refused, naming it. Not recorded (integers).
Tensor one_hot(const Tensor& index, int64_t num_classes = -1);
}  // namespace tg
