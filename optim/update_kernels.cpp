#include "optim/update_kernels.h"

#include "core/creation.h"
#include "core/kernels.h"

namespace tg::optim {

using kernels::binary;
using kernels::unary;

namespace {
Tensor scalar_like(const Tensor& like, double value) { return scalar(value, {like.dtype(), like.device()}); }
}  // namespace

void scale_(const Tensor& t, double s) { kernels::copy_into(unary(UnaryOp::mul_scalar, t, s), t); }

void axpy_(const Tensor& y, double a, const Tensor& x) {
  kernels::add_into(y, a == 1 ? x : unary(UnaryOp::mul_scalar, x, a));
}

Tensor axpy(const Tensor& y, double a, const Tensor& x) {
  return binary(BinaryOp::add, y, a == 1 ? x : unary(UnaryOp::mul_scalar, x, a));
}

void add_square_(const Tensor& y, double a, const Tensor& x) {
  kernels::add_into(y, unary(UnaryOp::mul_scalar, binary(BinaryOp::mul, x, x), a));
}

void maximum_(const Tensor& y, const Tensor& x) { kernels::copy_into(binary(BinaryOp::maximum, y, x), y); }

Tensor sqrt_div_add(const Tensor& x, double d, double eps) {
  const Tensor root = binary(BinaryOp::div, unary(UnaryOp::sqrt, x), scalar_like(x, d));
  return unary(UnaryOp::add_scalar, root, eps);
}

void add_ratio_(const Tensor& y, double a, const Tensor& n, const Tensor& d) {
  kernels::add_into(y, unary(UnaryOp::mul_scalar, binary(BinaryOp::div, n, d), a));
}

}  // namespace tg::optim
