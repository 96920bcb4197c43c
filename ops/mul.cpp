#include "ops/mul.h"

#include "core/kernels.h"
#include "core/tape.h"
#include "ops/unary.h"

namespace tg {

// y = a ⊙ b;  da += dy ⊙ b, db += dy ⊙ a   (accumulate_grad sums broadcast dims away)
Tensor mul(const Tensor& a, const Tensor& b) {
  const ProfileScope profile("mul");
  check_same_kind(a, b, "mul");
  check_floating(a, "mul");
  Tensor y = kernels::binary(BinaryOp::mul, a, b);
  record("mul", {&a, &b}, y, [a, b](const Tensor& dy) {
    if (a.requires_grad()) accumulate_grad(a, kernels::binary(BinaryOp::mul, dy, b));
    if (b.requires_grad()) accumulate_grad(b, kernels::binary(BinaryOp::mul, dy, a));
  });
  return y;
}

// y = x * s;  dx += dy * s
Tensor mul(const Tensor& x, double s) { return detail::unary_op("mul_scalar", UnaryOp::mul_scalar, x, s); }

}  // namespace tg
