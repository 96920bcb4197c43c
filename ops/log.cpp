#include "ops/log.h"

#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::log> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = ln x;  dx += dy / x
Tensor log(const Tensor& x) { return detail::unary_op("log", UnaryOp::log, x); }
}  // namespace tg
