#include "ops/mean.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/sum.h"
#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::mul_scalar> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).

// Composed: mean = sum * (1/n); the gradient follows from both.
Tensor mean(const Tensor& x) {
  const ProfileScope profile("mean");
  check_defined(x, "mean", "x");
  check_floating(x, "mean");
  if (x.numel() == 0) fail("mean: of an empty tensor of shape {}", x.shape().str());
  return detail::unary_op("mean", UnaryOp::mul_scalar, sum(x), 1.0 / static_cast<double>(x.numel()));
}

Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  const ProfileScope profile("mean");
  check_defined(x, "mean", "x");
  check_floating(x, "mean");
  int64_t n = 1;
  for (int a : axes) n *= x.shape()[normalize_axis(a, x.ndim(), "mean")];
  if (n == 0) fail("mean: over empty axes of shape {}", x.shape().str());
  return detail::unary_op("mean", UnaryOp::mul_scalar, sum(x, axes, keepdim), 1.0 / static_cast<double>(n));
}

}  // namespace tg
