#include "ops/sqrt.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::sqrt> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = √x;  dx += dy / (2y)   (the kernel pair reuses y)
Tensor sqrt(const Tensor& x) { return detail::unary_op("sqrt", UnaryOp::sqrt, x); }
}  // namespace tg
