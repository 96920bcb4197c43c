#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = x with only the entries index[0], index[1], ... along `axis`:
// x (..., n, ...), index int64 (K) -> y (..., K, ...); indices may repeat.
//   dx[..., index[k], ...] += dy[..., k, ...]
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
}  // namespace tg

namespace tg::detail {
// out[i, :] = table[index[i], :]; table (V, D) any strides, index int64 (N) -> out (N, D).
// An out-of-range index throws naming `op`.
Tensor gather_rows(const char* op, const Tensor& table, const Tensor& index);
// table[index[i], :] += src[i, :]; src (N, D), index int64 (N), table (V, D).
void scatter_add_rows(const char* op, const Tensor& src, const Tensor& index, const Tensor& table);
// t with dimension `from` moved to position `to` (a view; the others keep their order).
Tensor move_axis(const Tensor& t, int from, int to);
}  // namespace tg::detail
