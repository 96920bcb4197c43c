#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {
// y = x[..., start:end:step, ...] along `axis` (a view sharing x's storage).
// Negative start/end count from the end and out-of-range bounds are clamped,
// as in Python; step must be positive.   dx[..., start:end:step, ...] += dy
Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end, int64_t step = 1);
}  // namespace tg

namespace tg::detail {
// The view t[..., start : start + length * step : step, ...] along `axis`,
// read through t's own strides and offset; not recorded. Bounds already valid.
Tensor slice_view(const Tensor& t, int axis, int64_t start, int64_t length, int64_t step);
}  // namespace tg::detail
