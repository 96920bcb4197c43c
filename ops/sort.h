#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {

struct Sorted {
  Tensor values;   // x's shape, sorted along dim
  Tensor indices;  // int64, the same shape: where each value sat along dim
};

// x sorted along `dim`, as torch.sort: ascending, or descending; NaN counts as
// the largest value (last ascending, first descending). The order is always
// stable (equal values keep their order), whatever `stable` says: PyTorch
// promises nothing for stable = false, so stable order is one it allows.
// values = gather(x, dim, indices), so
//   dx[indices] += dy   (indices carry no gradient)
// The order is found on the host. A zero-dim x is its own sort (dim -1 or 0).
Sorted sort(const Tensor& x, int dim = -1, bool descending = false, bool stable = false);
// sort(...).indices without the values, as torch.argsort (not differentiable).
Tensor argsort(const Tensor& x, int dim = -1, bool descending = false, bool stable = false);

}  // namespace tg
