#include "ops/var.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/reshape.h"
#include "ops/mean.h"
#include "ops/mul.h"
#include "ops/sqrt.h"
#include "ops/sub.h"
#include "ops/sum.h"

namespace tg {

// Recorded through its parts (mean, sub, mul, sum).
Tensor var(const Tensor& x, int axis, int64_t correction, bool keepdim) {
  const ProfileScope profile("var");
  const int a = check_floating_axis(x, axis, "var");
  const int64_t n = x.shape()[a];
  if (correction < 0) fail("var: correction must be >= 0, got {}", correction);
  if (n - correction <= 0)
    fail("var: {} element{} along axis {} of {} leave no degrees of freedom with correction {}", n, n == 1 ? "" : "s",
         a, x.shape().str(), correction);
  const Tensor centred = sub(x, mean(x, {a}, true));
  return mul(sum(mul(centred, centred), {a}, keepdim), 1.0 / static_cast<double>(n - correction));
}

Tensor std(const Tensor& x, int axis, int64_t correction, bool keepdim) {
  const ProfileScope profile("std");
  return sqrt(var(x, axis, correction, keepdim));
}


// Over every element: the flat tensor's variance along its one axis.
Tensor var(const Tensor& x) {
  check_defined(x, "var", "x");
  return var(reshape(x, Shape{x.numel()}), 0);
}

Tensor std(const Tensor& x) {
  check_defined(x, "std", "x");
  return std(reshape(x, Shape{x.numel()}), 0);
}

}  // namespace tg
