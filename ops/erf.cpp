#include "ops/erf.h"

#include "ops/unary.h"

namespace tg {
// y = erf x;  dx += dy · 2/√π · e^(-x²)   (the kernel pair, core/elementwise.h)
Tensor erf(const Tensor& x) { return detail::unary_op("erf", UnaryOp::erf, x); }
}  // namespace tg
