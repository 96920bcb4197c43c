#include "ops/neg.h"

#include "ops/unary.h"

namespace tg {
// y = -x;  dx += -dy
Tensor neg(const Tensor& x) { return detail::unary_op("neg", UnaryOp::neg, x); }
}  // namespace tg
