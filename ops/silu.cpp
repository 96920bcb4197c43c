#include "ops/silu.h"

#include "core/services/profiler.h"
#include "ops/mul.h"
#include "ops/sigmoid.h"

namespace tg {
// Composed: the product rule over x and σ(x) gives the derivative above.
Tensor silu(const Tensor& x) {
  const ProfileScope profile("silu");
  return mul(x, sigmoid(x));
}
}  // namespace tg
