#include "ops/unary.h"

#include "core/kernels.h"
#include "core/tape.h"

namespace tg::detail {

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double scalar) {
  const ProfileScope profile(name);
  check_defined(x, name, "x");
  check_floating(x, name);
  Tensor y = kernels::unary(op, x, scalar);
  record(name, {&x}, y, [x, y, op, scalar](const Tensor& dy) {
    kernels::unary_backward(op, x, y, dy, grad_buffer(x), scalar);
  });
  return y;
}

}  // namespace tg::detail
