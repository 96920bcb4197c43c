#include "ops/softplus.h"

#include "core/error.h"
#include "core/tape.h"
#include "ops/compose.h"

namespace tg {

// y = βx > threshold ? x : log1p(e^(βx)) / β;  dx += dy · (βx > threshold ? 1 : σ(βx))
Tensor softplus(const Tensor& x, double beta, double threshold) {
  const ProfileScope profile("softplus");
  check_defined(x, "softplus", "x");
  check_floating(x, "softplus");
  if (beta == 0) fail("softplus: beta must be nonzero, got 0 (x {})", x.shape().str());
  const Tensor bx = detail::mul(x, beta);
  const Tensor linear = kernels::binary(BinaryOp::gt, bx, detail::constant_like(x, threshold));  // bool
  const Tensor smooth = detail::mul(detail::log1p_values(detail::apply(UnaryOp::exp, bx)), 1 / beta);
  Tensor y = kernels::where(linear, x, smooth);
  record("softplus", {&x}, y, [x, bx, linear](const Tensor& dy) {
    accumulate_grad(x, kernels::where(linear, dy, detail::mul(dy, detail::apply(UnaryOp::sigmoid, bx))));
  });
  return y;
}

}  // namespace tg
