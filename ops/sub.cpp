#include "ops/sub.h"

#include "core/kernels.h"
#include "core/tape.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"
#include "ops/result_type.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::add_scalar>, Unary<UnaryOp::neg> in
// core/elementwise.h (the reference backend's plain switch is the independent check).

// y = a - b;  da += dy, db += -dy   (accumulate_grad sums broadcast dims away)
Tensor sub(const Tensor& a_in, const Tensor& b_in) {
  const std::pair<Tensor, Tensor> operands = promoted(a_in, b_in);  // PyTorch's type promotion (ops/result_type.h)
  const Tensor& a = operands.first;
  const Tensor& b = operands.second;
  if (detail::both_int64(a, b)) return detail::integer_binary("sub", BinaryOp::sub, a, b);
  const ProfileScope profile("sub");
  check_same_kind(a, b, "sub");
  check_floating(a, "sub");
  Tensor y = kernels::binary(BinaryOp::sub, a, b);
  record("sub", {&a, &b}, y, [da = slot_of(a), db = slot_of(b)](const Tensor& dy) {  // saves nothing
    if (da) accumulate_grad(*da, dy);
    if (db) accumulate_grad(*db, kernels::unary(UnaryOp::neg, dy));
  });
  return y;
}

// y = x - s = x + (-s);  dx += dy
Tensor sub(const Tensor& x, double s) {
  if (x.dtype() == DType::i64) return detail::integer_scalar("sub_scalar", BinaryOp::sub, x, s);
  return detail::unary_op("sub_scalar", UnaryOp::add_scalar, x, -s);
}

// y = s - x = (-x) + s;  dx += -dy   (two elementwise nodes: neg, then add_scalar)
Tensor sub(double s, const Tensor& x) {
  if (x.dtype() == DType::i64) return detail::integer_scalar("rsub_scalar", BinaryOp::sub, x, s, true);
  return detail::unary_op("rsub_scalar", UnaryOp::add_scalar, detail::unary_op("neg", UnaryOp::neg, x), s);
}

}  // namespace tg
