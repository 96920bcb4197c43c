#include "ops/argmin.h"

#include "ops/detail/arg_reduce.h"

namespace tg {
// y = argmin_axis x = argmax_axis (−x) (first on ties); not recorded
Tensor argmin(const Tensor& x, int axis, bool keepdim) { return detail::arg_reduce("argmin", x, axis, keepdim, true); }
}  // namespace tg
