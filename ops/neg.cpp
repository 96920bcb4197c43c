#include "ops/neg.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::neg> in
// core/elementwise.h (the reference backend's plain switch is the independent check).
// y = -x;  dx += -dy
Tensor neg(const Tensor& x) { return detail::unary_op("neg", UnaryOp::neg, x); }
}  // namespace tg
