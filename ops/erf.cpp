#include "ops/erf.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::erf> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = erf x;  dx += dy · 2/√π · e^(-x²)   (the kernel pair, core/dispatch/elementwise.h)
Tensor erf(const Tensor& x) { return detail::unary_op("erf", UnaryOp::erf, x); }
}  // namespace tg
