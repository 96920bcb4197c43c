#pragma once
// Shared by expand and broadcast_to: the stride-0 view and its backward.
#include "core/tensor/tensor.h"

namespace tg::detail {
// x viewed with `shape` (size-1 dimensions grown, new leading dimensions,
// -1 keeps a size), recorded as `op`; errors name `op` and both shapes.
Tensor expand_view(const char* op, const Tensor& x, const Shape& shape);
}  // namespace tg::detail
