#include "ops/sin_cos.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::sin>,
// Unary<UnaryOp::cos> in core/dispatch/elementwise.h (the reference backend's plain
// switch is the independent check).
Tensor sin(const Tensor& x) { return detail::unary_op("sin", UnaryOp::sin, x); }
Tensor cos(const Tensor& x) { return detail::unary_op("cos", UnaryOp::cos, x); }
}  // namespace tg
