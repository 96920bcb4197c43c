#include "ops/tanh.h"

#include "ops/unary.h"

namespace tg {
// y = tanh(x);  dx += dy * (1 - y²)   (the kernel pair reuses y)
Tensor tanh(const Tensor& x) { return detail::unary_op("tanh", UnaryOp::tanh, x); }
}  // namespace tg
