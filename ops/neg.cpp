#include "ops/neg.h"

#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::neg> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = -x;  dx += -dy
// int64: exact, on the host, never recorded (as the other integer arithmetic).
Tensor neg(const Tensor& x) {
  if (x.dtype() == DType::i64) return detail::integer_unary("neg", UnaryOp::neg, x);
  return detail::unary_op("neg", UnaryOp::neg, x);
}
}  // namespace tg
