#include "ops/min.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/reshape.h"
#include "ops/max.h"
#include "ops/neg.h"

namespace tg {

// values = min over axis = −max(−x), indices = argmin;  dx += dy at argmin, 0 elsewhere
//
// Composed from neg and max (ops/max.cpp): the first maximum of −x is the
// first minimum of x, and max's backward sends dy to it; a NaN wins in both.
MinResult min(const Tensor& x, int axis, bool keepdim) {
  const ProfileScope profile("min");
  check_defined(x, "min", "x");
  check_floating(x, "min");
  if (x.ndim() == 0) fail("min: needs a tensor with at least one dimension, got a scalar");
  const int a = normalize_axis(axis, x.ndim(), "min");
  if (x.shape()[a] == 0) fail("min: over axis {} of size 0 (shape {}) has no value", a, x.shape().str());
  const MaxResult negated = max(neg(x), a, keepdim);
  return {neg(negated.values), negated.indices};
}


Tensor min(const Tensor& x) {
  check_defined(x, "min", "x");
  if (x.numel() == 0) fail("min: of an empty tensor of shape {}: it has no smallest element", x.shape().str());
  return min(reshape(x, Shape{x.numel()}), 0).values;
}

}  // namespace tg
