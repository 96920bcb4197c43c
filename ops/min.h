#pragma once
#include "core/tensor/tensor.h"

namespace tg {

struct MinResult {
  Tensor values;   // x's shape without `axis` (size 1 there with keepdim)
  Tensor indices;  // int64, same shape: position of the first minimum along `axis`
};

// values = min of x over `axis` (negative counts from the end), indices = argmin
// (ties: the first index).   dx += dy at the argmin position, 0 elsewhere.
// indices carry no gradient.
MinResult min(const Tensor& x, int axis, bool keepdim = false);
// The smallest element (a scalar), as torch.min(x). dx += dy at the first
// minimum in row-major order (PyTorch shares it among tied minima).
Tensor min(const Tensor& x);

}  // namespace tg
