#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {
// y = x[..., index, ...] along `axis`, which disappears: x (..., n, ...) ->
// y (..., ...). A view; a negative index counts from the end.
//   dx[..., index, ...] += dy
Tensor select(const Tensor& x, int axis, int64_t index);
}  // namespace tg

namespace tg::detail {
// The view t[..., index, ...] without `axis`, through t's own strides; not
// recorded. Index already valid.
Tensor select_view(const Tensor& t, int axis, int64_t index);
}  // namespace tg::detail
