#include "ops/softplus.h"

#include "core/services/error.h"
#include "core/autograd/tape.h"
#include "ops/detail/compose.h"

namespace tg {

// y = βx > threshold ? x : log1p(e^(βx)) / β;  dx += dy · (βx > threshold ? 1 : σ(βx))
Tensor softplus(const Tensor& x, double beta, double threshold) {
  const ProfileScope profile("softplus");
  check_defined(x, "softplus", "x");
  check_floating(x, "softplus");
  if (beta == 0) fail("softplus: beta must be nonzero, got 0 (x {})", x.shape().str());
  const Tensor bx = detail::mul(x, beta);
  const Tensor linear = compute::binary(BinaryOp::gt, bx, detail::constant_like(x, threshold));  // bool
  const Tensor smooth = detail::mul(detail::log1p_values(detail::apply(UnaryOp::exp, bx)), 1 / beta);
  Tensor y = compute::where(linear, x, smooth);
  const Saved bx_saved = save_if(x.requires_grad(), "bx", bx), linear_saved = save_if(x.requires_grad(), "linear", linear);
  record("softplus", {&x}, y, {bx_saved, linear_saved}, [dx = slot_of(x), bx_saved, linear_saved](const Tensor& dy) {
    const Tensor sigmoid = detail::apply(UnaryOp::sigmoid, bx_saved.get());
    accumulate_grad(*dx, compute::where(linear_saved.get(), dy, detail::mul(dy, sigmoid)));
  });
  return y;
}

}  // namespace tg
