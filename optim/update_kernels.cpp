#include "optim/update_kernels.h"

#include "core/tensor/compute.h"

namespace tg::optim {

using compute::binary;
using compute::unary;

void scale_(const Tensor& t, double s) { compute::copy_into(unary(UnaryOp::mul_scalar, t, s), t); }

void axpy_(const Tensor& y, double a, const Tensor& x) {
  compute::add_into(y, a == 1 ? x : unary(UnaryOp::mul_scalar, x, a));
}

Tensor axpy(const Tensor& y, double a, const Tensor& x) {
  return binary(BinaryOp::add, y, a == 1 ? x : unary(UnaryOp::mul_scalar, x, a));
}

}  // namespace tg::optim
