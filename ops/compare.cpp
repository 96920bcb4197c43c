#include "ops/compare.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/tensor/compute.h"
#include "ops/result_type.h"

namespace tg {

namespace {
// y = a (op) b as bool, broadcasting; not recorded.
Tensor compare(BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
  const std::pair<Tensor, Tensor> operands = promoted(a_in, b_in);  // PyTorch's type promotion (ops/result_type.h)
  const Tensor& a = operands.first;
  const Tensor& b = operands.second;
  const char* name = binary_op_name(op).data();
  const ProfileScope profile(name);
  check_defined(a, name, "a");
  check_defined(b, name, "b");
  check_same_kind(a, b, name);
  if (is_floating(a.dtype())) return compute::binary(op, a, b);
  // The comparison kernels take floats: compare integers and bools as float64.
  return compute::binary(op, a.to(DType::f64), b.to(DType::f64));
}

// The number as a zero-dim operand of the dtype `a op b` takes (int64 tensor
// and 0.5: float32), which the promotion above then applies.
Tensor compare(BinaryOp op, const Tensor& a, Scalar b) {
  const char* name = binary_op_name(op).data();
  const ProfileScope profile(name);
  check_defined(a, name, "a");
  return compare(op, a, scalar_operand(a, b));
}
}  // namespace

// y = (a == b), (a != b), (a < b), (a <= b), (a > b), (a >= b)
Tensor eq(const Tensor& a, const Tensor& b) { return compare(BinaryOp::eq, a, b); }
Tensor eq(const Tensor& a, Scalar b) { return compare(BinaryOp::eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(BinaryOp::ne, a, b); }
Tensor ne(const Tensor& a, Scalar b) { return compare(BinaryOp::ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::lt, a, b); }
Tensor lt(const Tensor& a, Scalar b) { return compare(BinaryOp::lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(BinaryOp::le, a, b); }
Tensor le(const Tensor& a, Scalar b) { return compare(BinaryOp::le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::gt, a, b); }
Tensor gt(const Tensor& a, Scalar b) { return compare(BinaryOp::gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(BinaryOp::ge, a, b); }
Tensor ge(const Tensor& a, Scalar b) { return compare(BinaryOp::ge, a, b); }

}  // namespace tg
