#include "ops/add.h"

#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"
#include "ops/result_type.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::add_scalar> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).

// y = a + b;  da += dy, db += dy   (accumulate_grad sums broadcast dims away)
Tensor add(const Tensor& a_in, const Tensor& b_in) {
  const std::pair<Tensor, Tensor> operands = promoted(a_in, b_in);  // PyTorch's type promotion (ops/result_type.h)
  const Tensor& a = operands.first;
  const Tensor& b = operands.second;
  if (a.dtype() == DType::i64 && b.dtype() == DType::i64) return detail::integer_binary("add", BinaryOp::add, a, b);
  const ProfileScope profile("add");
  Tensor y = compute::binary(BinaryOp::add, a, b);
  record("add", {&a, &b}, y, [da = slot_of(a), db = slot_of(b)](const Tensor& dy) {  // saves nothing
    if (da) accumulate_grad(*da, dy);
    if (db) accumulate_grad(*db, dy);
  });
  return y;
}

// y = x + s;  dx += dy   (an integer tensor: exact with an integral s, else in float32; core/types/scalar.h)
Tensor add(const Tensor& x, Scalar s) {
  if (detail::is_integer(x)) {
    if (s.is_integral()) return detail::integer_scalar("add_scalar", BinaryOp::add, x, s.to_int());
    return add(x.to(default_dtype()), s);
  }
  return detail::unary_op("add_scalar", UnaryOp::add_scalar, x, s.to_double());
}

}  // namespace tg
