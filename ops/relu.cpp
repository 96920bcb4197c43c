#include "ops/relu.h"

#include "ops/unary.h"

namespace tg {
// y = max(x, 0);  dx += dy ⊙ [x > 0]
Tensor relu(const Tensor& x) { return detail::unary_op("relu", UnaryOp::relu, x); }
}  // namespace tg
