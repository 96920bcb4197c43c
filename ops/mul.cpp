#include "ops/mul.h"

#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"
#include "ops/result_type.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::mul_scalar> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).

// y = a ⊙ b;  da += dy ⊙ b, db += dy ⊙ a   (accumulate_grad sums broadcast dims away)
Tensor mul(const Tensor& a_in, const Tensor& b_in) {
  const std::pair<Tensor, Tensor> operands = promoted(a_in, b_in);  // PyTorch's type promotion (ops/result_type.h)
  const Tensor& a = operands.first;
  const Tensor& b = operands.second;
  if (a.dtype() == DType::i64 && b.dtype() == DType::i64) return detail::integer_binary("mul", BinaryOp::mul, a, b);
  const ProfileScope profile("mul");
  check_same_kind(a, b, "mul");
  check_floating(a, "mul");
  Tensor y = compute::binary(BinaryOp::mul, a, b);
  const Saved a_saved = save_if(b.requires_grad(), "a", a);  // db reads a
  const Saved b_saved = save_if(a.requires_grad(), "b", b);  // da reads b
  record("mul", {&a, &b}, y, {a_saved, b_saved},
         [da = slot_of(a), db = slot_of(b), a_saved, b_saved](const Tensor& dy) {
           if (da) accumulate_grad(*da, compute::binary(BinaryOp::mul, dy, b_saved.get()));
           if (db) accumulate_grad(*db, compute::binary(BinaryOp::mul, dy, a_saved.get()));
         });
  return y;
}

// y = x * s;  dx += dy * s
Tensor mul(const Tensor& x, Scalar s) {
  if (detail::is_integer(x)) {
    if (s.is_integral()) return detail::integer_scalar("mul_scalar", BinaryOp::mul, x, s.to_int());
    return mul(x.to(default_dtype()), s);
  }
  return detail::unary_op("mul_scalar", UnaryOp::mul_scalar, x, s.to_double());
}

}  // namespace tg
