#include "ops/argmax.h"

#include "ops/detail/arg_reduce.h"

namespace tg {
// y = argmax_axis x (first on ties); not recorded
Tensor argmax(const Tensor& x, int axis, bool keepdim) { return detail::arg_reduce("argmax", x, axis, keepdim, false); }
}  // namespace tg
