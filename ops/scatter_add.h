#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// torch.scatter_add: y = x, then y[p with its `dim` coordinate replaced by
// index[p]] += src[p] for every position p of index. index int64 of x's rank,
// index.size(d) <= src.size(d) for every d and <= x.size(d) for d ≠ dim,
// values in [0, x.size(dim)); indices may repeat (their sums add up).
//   dx += dy,  dsrc[p] += dy[p with index[p] along dim]  (0 where index does not reach)
// Positions are worked out on the host, as gather's; the values move with
// index_select's row kernels on x's device.
Tensor scatter_add(const Tensor& x, int dim, const Tensor& index, const Tensor& src);
}  // namespace tg
