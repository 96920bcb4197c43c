#include "ops/exp.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::exp> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = eˣ;  dx += dy ⊙ y   (the kernel pair reuses y)
Tensor exp(const Tensor& x) { return detail::unary_op("exp", UnaryOp::exp, x); }
}  // namespace tg
