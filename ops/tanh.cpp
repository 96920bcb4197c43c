#include "ops/tanh.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::tanh> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = tanh(x);  dx += dy * (1 - y²)   (the kernel pair reuses y)
Tensor tanh(const Tensor& x) { return detail::unary_op("tanh", UnaryOp::tanh, x); }
}  // namespace tg
