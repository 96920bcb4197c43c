#include "ops/abs.h"

#include "ops/unary.h"

namespace tg {
// y = |x|;  dx += dy · sign(x)   (the kernel pair gives sign(0) = 0)
Tensor abs(const Tensor& x) { return detail::unary_op("abs", UnaryOp::abs, x); }
}  // namespace tg
