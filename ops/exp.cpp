#include "ops/exp.h"

#include "ops/unary.h"

namespace tg {
// y = eˣ;  dx += dy ⊙ y   (the kernel pair reuses y)
Tensor exp(const Tensor& x) { return detail::unary_op("exp", UnaryOp::exp, x); }
}  // namespace tg
