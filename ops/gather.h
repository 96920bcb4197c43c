#pragma once
#include "core/tensor.h"

namespace tg {
// y[p] = x[p with its `dim` coordinate replaced by index[p]], as torch.gather:
// index int64 of x's rank, index.size(d) <= x.size(d) for d ≠ dim, values in
// [0, x.size(dim)) -> y of index's shape. Indices may repeat.
//   dx[p with index[p] along dim] += dy[p]
// The positions are worked out on the host (index is small bookkeeping), the
// values picked and scattered back by index_select's kernels on x's device.
Tensor gather(const Tensor& x, int dim, const Tensor& index);
}  // namespace tg
