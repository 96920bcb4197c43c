#pragma once
// Unrecorded elementwise building blocks for ops composed from the backend
// kernels (clamp, log1p, softplus, gelu, ...): short names for the kernel
// calls, so that a forward or backward reads as its formula. Nothing here is
// recorded on the tape; the op that uses them records itself.
#include "core/tensor/creation.h"
#include "core/tensor/compute.h"

namespace tg::detail {

inline Tensor add(const Tensor& a, const Tensor& b) { return compute::binary(BinaryOp::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return compute::binary(BinaryOp::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return compute::binary(BinaryOp::mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return compute::binary(BinaryOp::div, a, b); }
inline Tensor add(const Tensor& x, double s) { return compute::unary(UnaryOp::add_scalar, x, s); }
inline Tensor mul(const Tensor& x, double s) { return compute::unary(UnaryOp::mul_scalar, x, s); }
inline Tensor apply(UnaryOp op, const Tensor& x) { return compute::unary(op, x); }
// A rank-0 tensor holding `value` with x's dtype and device (broadcasts).
inline Tensor constant_like(const Tensor& x, double value) { return scalar(value, {x.dtype(), x.device()}); }

// log(1 + x), accurate for small |x| without a log1p kernel (Goldberg's
// trick: with u = fl(1 + x), log1p(x) = log(u) · x / (u − 1), and x itself
// where u rounds to 1).
inline Tensor log1p_values(const Tensor& x) {
  const Tensor u = add(x, 1.0);
  const Tensor u_minus_1 = add(u, -1.0);
  const Tensor corrected = div(mul(apply(UnaryOp::log, u), x), u_minus_1);
  return compute::where(compute::binary(BinaryOp::eq, u_minus_1, constant_like(x, 0)), x, corrected);
}

}  // namespace tg::detail
