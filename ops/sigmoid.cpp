#include "ops/sigmoid.h"

#include "ops/unary.h"

namespace tg {
// y = 1 / (1 + e⁻ˣ);  dx += dy ⊙ y(1 - y)   (the kernel pair reuses y)
Tensor sigmoid(const Tensor& x) { return detail::unary_op("sigmoid", UnaryOp::sigmoid, x); }
}  // namespace tg
