#include "ops/mse_loss.h"

#include "core/error.h"
#include "core/profiler.h"
#include "ops/detail/reduce_loss.h"
#include "ops/mul.h"
#include "ops/sub.h"

namespace tg {

// Composed: d = a - b, loss = reduce(d ⊙ d). The mul of d with itself gives
// d's gradient 2 d ⊙ dloss (both factors accumulate), and sub passes it on.
Tensor mse_loss(const Tensor& a, const Tensor& b, Reduction reduction) {
  const ProfileScope profile("mse_loss");
  check_defined(a, "mse_loss", "a");
  check_defined(b, "mse_loss", "b");
  check_same_kind(a, b, "mse_loss");
  check_floating(a, "mse_loss");
  if (a.shape() != b.shape())
    fail("mse_loss: input {} and target {}: shapes differ (broadcast explicitly if intended)", a.shape().str(),
         b.shape().str());
  const Tensor d = a - b;
  return detail::reduce_loss(d * d, reduction);
}

}  // namespace tg
