#include "ops/sigmoid.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::sigmoid> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = 1 / (1 + e⁻ˣ);  dx += dy ⊙ y(1 - y)   (the kernel pair reuses y)
Tensor sigmoid(const Tensor& x) { return detail::unary_op("sigmoid", UnaryOp::sigmoid, x); }
}  // namespace tg
