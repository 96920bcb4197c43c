#include "ops/sqrt.h"

#include "ops/unary.h"

namespace tg {
// y = √x;  dx += dy / (2y)   (the kernel pair reuses y)
Tensor sqrt(const Tensor& x) { return detail::unary_op("sqrt", UnaryOp::sqrt, x); }
}  // namespace tg
