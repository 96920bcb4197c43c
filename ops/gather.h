#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// y[p] = x[p with its `dim` coordinate replaced by index[p]], as torch.gather:
// index int64 of x's rank, index.size(d) <= x.size(d) for d ≠ dim, values in
// [0, x.size(dim)) -> y of index's shape. Indices may repeat.
//   dx[p with index[p] along dim] += dy[p]
// The positions are worked out on the host (index is small bookkeeping), the
// values picked and scattered back by index_select's kernels on x's device.
Tensor gather(const Tensor& x, int dim, const Tensor& index);
}  // namespace tg

namespace tg::detail {
// Row-major linear positions in a tensor of shape `target`, one per element
// of `index` (in index's row-major order): index's own coordinates, with the
// coordinate along `dim` replaced by the index value when replace_dim (values
// checked to lie in [0, target[dim]), errors naming `op`).
std::vector<int64_t> index_positions(const Shape& target, int dim, const Tensor& index, bool replace_dim,
                                     const char* op);
}  // namespace tg::detail
