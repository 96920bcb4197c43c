#pragma once
#include "core/tensor/tensor.h"

namespace tg {

struct MaxResult {
  Tensor values;   // x's shape without `axis` (size 1 there with keepdim)
  Tensor indices;  // int64, same shape: position of the first maximum along `axis`
};

// values = max of x over `axis` (negative counts from the end), indices = argmax
// (ties: the first index).   dx += dy at the argmax position, 0 elsewhere.
// indices carry no gradient.
MaxResult max(const Tensor& x, int axis, bool keepdim = false);
// The largest element (a scalar), as torch.max(x). dx += dy at the first
// maximum in row-major order (PyTorch shares it among tied maxima).
Tensor max(const Tensor& x);

}  // namespace tg
