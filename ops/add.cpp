#include "ops/add.h"

#include "core/kernels.h"
#include "core/tape.h"
#include "ops/unary.h"

namespace tg {

// y = a + b;  da += dy, db += dy   (accumulate_grad sums broadcast dims away)
Tensor add(const Tensor& a, const Tensor& b) {
  const ProfileScope profile("add");
  Tensor y = kernels::binary(BinaryOp::add, a, b);
  record("add", {&a, &b}, y, [a, b](const Tensor& dy) {
    if (a.requires_grad()) accumulate_grad(a, dy);
    if (b.requires_grad()) accumulate_grad(b, dy);
  });
  return y;
}

// y = x + s;  dx += dy
Tensor add(const Tensor& x, double s) { return detail::unary_op("add_scalar", UnaryOp::add_scalar, x, s); }

}  // namespace tg
