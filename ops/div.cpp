#include "ops/div.h"

#include <utility>

#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"
#include "ops/result_type.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::mul_scalar> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).

// y = a / b;  da += g, db += -g ⊙ y  with g = dy / b   (y = a / b, so a / b² = y / b)
Tensor div(const Tensor& a_in, const Tensor& b_in) {
  const std::pair<Tensor, Tensor> operands = promoted(a_in, b_in);  // PyTorch's type promotion (ops/result_type.h)
  const Tensor& a = operands.first;
  const Tensor& b = operands.second;
  // True division, as PyTorch's `/`: integers are divided as the default float type (floor_divide floors).
  if (detail::both_integer(a, b)) return div(a.to(default_dtype()), b.to(default_dtype()));
  const ProfileScope profile("div");
  check_same_kind(a, b, "div");
  check_floating(a, "div");
  Tensor y = compute::binary(BinaryOp::div, a, b);
  const Saved b_saved = save_if(a.requires_grad() || b.requires_grad(), "b", b);  // both read b
  const Saved y_saved = save_if(b.requires_grad(), "y", y);                      // db reads y
  record("div", {&a, &b}, y, {b_saved, y_saved},
         [da = slot_of(a), db = slot_of(b), b_saved, y_saved](const Tensor& dy) {
           Tensor g = compute::binary(BinaryOp::div, dy, b_saved.get());  // broadcast shape
           if (db) {
             const Tensor gy = compute::binary(BinaryOp::mul, g, y_saved.get());
             accumulate_grad(*db, compute::unary(UnaryOp::neg, gy));
           }
           if (da) accumulate_grad(*da, std::move(g));  // moved: an empty slot adopts it
         });
  return y;
}

// y = x / s = x * (1/s);  dx += dy / s
Tensor div(const Tensor& x, Scalar s) {
  if (detail::is_integer(x)) return div(x.to(default_dtype()), s);
  return detail::unary_op("div_scalar", UnaryOp::mul_scalar, x, 1.0 / s.to_double());
}

// y = s / x;  dx += -dy ⊙ y / x
Tensor div(Scalar scalar, const Tensor& x) {
  if (detail::is_integer(x)) return div(scalar, x.to(default_dtype()));
  const double s = scalar.to_double();
  const ProfileScope profile("rdiv_scalar");
  check_defined(x, "rdiv_scalar", "x");
  check_floating(x, "rdiv_scalar");
  Tensor numerator = compute::empty_like(x, Shape{});
  compute::fill(numerator, s);
  Tensor y = compute::binary(BinaryOp::div, numerator, x);
  const Saved x_saved = save_if(x.requires_grad(), "x", x), y_saved = save_if(x.requires_grad(), "y", y);
  record("rdiv_scalar", {&x}, y, {x_saved, y_saved}, [dx = slot_of(x), x_saved, y_saved](const Tensor& dy) {
    const Tensor g = compute::binary(BinaryOp::div, compute::binary(BinaryOp::mul, dy, y_saved.get()), x_saved.get());
    accumulate_grad(*dx, compute::unary(UnaryOp::neg, g));
  });
  return y;
}

}  // namespace tg
