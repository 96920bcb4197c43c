#include "ops/sub.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"
#include "ops/result_type.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::add_scalar>, Unary<UnaryOp::neg> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).

// y = a - b;  da += dy, db += -dy   (accumulate_grad sums broadcast dims away)
Tensor sub(const Tensor& a_in, const Tensor& b_in) {
  const std::pair<Tensor, Tensor> operands = promoted(a_in, b_in);  // PyTorch's type promotion (ops/result_type.h)
  const Tensor& a = operands.first;
  const Tensor& b = operands.second;
  if (a.dtype() == DType::i64 && b.dtype() == DType::i64) return detail::integer_binary("sub", BinaryOp::sub, a, b);
  const ProfileScope profile("sub");
  check_same_kind(a, b, "sub");
  check_floating(a, "sub");
  Tensor y = compute::binary(BinaryOp::sub, a, b);
  record("sub", {&a, &b}, y, [da = slot_of(a), db = slot_of(b)](const Tensor& dy) {  // saves nothing
    if (da) accumulate_grad(*da, dy);
    if (db) accumulate_grad(*db, compute::unary(UnaryOp::neg, dy));
  });
  return y;
}

// y = x - s = x + (-s);  dx += dy
namespace {
// PyTorch refuses `-` with a bool tensor; so does tapegrad, saying what to use instead.
void refuse_bool(const Tensor& x, const char* name) {
  if (x.dtype() == DType::boolean)
    fail("{}: a bool tensor cannot be subtracted (PyTorch refuses it too); use logical_xor, or convert it first "
         "(.to(DType::i64))",
         name);
}
}  // namespace

Tensor sub(const Tensor& x, Scalar s) {
  refuse_bool(x, "sub_scalar");
  if (detail::is_integer(x)) {
    if (s.is_integral()) return detail::integer_scalar("sub_scalar", BinaryOp::sub, x, s.to_int());
    return sub(x.to(default_dtype()), s);
  }
  return detail::unary_op("sub_scalar", UnaryOp::add_scalar, x, -s.to_double());
}

// y = s - x = (-x) + s;  dx += -dy   (two elementwise nodes: neg, then add_scalar)
Tensor sub(Scalar s, const Tensor& x) {
  refuse_bool(x, "rsub_scalar");
  if (detail::is_integer(x)) {
    if (s.is_integral()) return detail::integer_scalar("rsub_scalar", BinaryOp::sub, x, s.to_int(), true);
    return sub(s, x.to(default_dtype()));
  }
  return detail::unary_op("rsub_scalar", UnaryOp::add_scalar, detail::unary_op("neg", UnaryOp::neg, x), s.to_double());
}

}  // namespace tg
