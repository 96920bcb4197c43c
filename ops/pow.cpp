#include "ops/pow.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::pow_scalar> in
// core/elementwise.h (the reference backend's plain switch is the independent check).
// y = xˢ;  dx += dy ⊙ s·xˢ⁻¹
Tensor pow(const Tensor& x, double s) { return detail::unary_op("pow", UnaryOp::pow_scalar, x, s); }
}  // namespace tg
