#pragma once
#include "core/tensor/tensor.h"

namespace tg {

struct Unique {
  Tensor values;   // the distinct values of x, flattened, ascending; x's dtype
  Tensor inverse;  // int64 of x's shape: where each element of x sits in values (when asked for)
  Tensor counts;   // int64 (values' length): how often each value occurs in x (when asked for)
};

struct UniqueOptions {
  bool sorted = true;  // always sorted here (PyTorch's cpu kernel sorts either way)
  bool return_inverse = false;
  bool return_counts = false;
};

// The distinct elements of x, as torch.unique(x, sorted, return_inverse,
// return_counts) with dim=None: x flattened, in ascending order. Each NaN
// is distinct (NaN != NaN), as PyTorch's cpu kernel: NaNs come last, one
// entry each. Not differentiable: values carry no gradient.
//   auto [values, inverse, counts] = tg::unique(x, {.return_inverse = true, .return_counts = true});
Unique unique(const Tensor& x, UniqueOptions options = {});

}  // namespace tg
