#include "ops/div.h"

#include "core/kernels.h"
#include "core/tape.h"
#include "ops/unary.h"

namespace tg {

// y = a / b;  da += g, db += -g ⊙ y  with g = dy / b   (y = a / b, so a / b² = y / b)
Tensor div(const Tensor& a, const Tensor& b) {
  const ProfileScope profile("div");
  check_same_kind(a, b, "div");
  check_floating(a, "div");
  Tensor y = kernels::binary(BinaryOp::div, a, b);
  record("div", {&a, &b}, y, [a, b, y](const Tensor& dy) {
    const Tensor g = kernels::binary(BinaryOp::div, dy, b);  // broadcast shape
    if (b.requires_grad()) {
      const Tensor gy = kernels::binary(BinaryOp::mul, g, y);
      accumulate_grad(b, kernels::unary(UnaryOp::neg, gy));
    }
    if (a.requires_grad()) accumulate_grad(a, g);
  });
  return y;
}

// y = x / s = x * (1/s);  dx += dy / s
Tensor div(const Tensor& x, double s) { return detail::unary_op("div_scalar", UnaryOp::mul_scalar, x, 1.0 / s); }

// y = s / x;  dx += -dy ⊙ y / x
Tensor div(double s, const Tensor& x) {
  const ProfileScope profile("rdiv_scalar");
  check_defined(x, "rdiv_scalar", "x");
  check_floating(x, "rdiv_scalar");
  Tensor numerator = kernels::empty_like(x, Shape{});
  kernels::fill(numerator, s);
  Tensor y = kernels::binary(BinaryOp::div, numerator, x);
  record("rdiv_scalar", {&x}, y, [x, y](const Tensor& dy) {
    const Tensor g = kernels::binary(BinaryOp::div, kernels::binary(BinaryOp::mul, dy, y), x);
    accumulate_grad(x, kernels::unary(UnaryOp::neg, g));
  });
  return y;
}

}  // namespace tg
