#include "ops/relu.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::relu> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = max(x, 0);  dx += dy ⊙ [x > 0]
Tensor relu(const Tensor& x) { return detail::unary_op("relu", UnaryOp::relu, x); }
}  // namespace tg
