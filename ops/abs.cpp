#include "ops/abs.h"

#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::abs> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = |x|;  dx += dy · sign(x)   (the kernel pair gives sign(0) = 0)
// int64: exact, on the host, never recorded (as the other integer arithmetic).
Tensor abs(const Tensor& x) {
  if (x.dtype() == DType::i64) return detail::integer_unary("abs", UnaryOp::abs, x);
  return detail::unary_op("abs", UnaryOp::abs, x);
}
}  // namespace tg
