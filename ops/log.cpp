#include "ops/log.h"

#include "ops/unary.h"

namespace tg {
// y = ln x;  dx += dy / x
Tensor log(const Tensor& x) { return detail::unary_op("log", UnaryOp::log, x); }
}  // namespace tg
