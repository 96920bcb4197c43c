#include "ops/pow.h"

#include "ops/unary.h"

namespace tg {
// y = xˢ;  dx += dy ⊙ s·xˢ⁻¹
Tensor pow(const Tensor& x, double s) { return detail::unary_op("pow", UnaryOp::pow_scalar, x, s); }
}  // namespace tg
