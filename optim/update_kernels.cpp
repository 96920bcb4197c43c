#include "optim/update_kernels.h"

#include "core/tensor/compute.h"
#include "core/tensor/creation.h"

namespace tg::optim {

using compute::binary;
using compute::unary;

// In place, one pass: t's dtype holds the factor, as mul_scalar converts it.
void scale_(const Tensor& t, double s) { compute::binary_into(BinaryOp::mul, t, full({}, s, {t.dtype(), t.device()})); }
Tensor scale(const Tensor& t, double s) { return compute::binary(BinaryOp::mul, t, full({}, s, {t.dtype(), t.device()})); }

void axpy_(const Tensor& y, double a, const Tensor& x) {
  compute::add_into(y, a == 1 ? x : unary(UnaryOp::mul_scalar, x, a));
}

Tensor axpy(const Tensor& y, double a, const Tensor& x) {
  return binary(BinaryOp::add, y, a == 1 ? x : unary(UnaryOp::mul_scalar, x, a));
}

}  // namespace tg::optim
