#include "ops/mse_loss.h"

#include <fmt/format.h>

#include "core/services/error.h"
#include "core/services/profiler.h"
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
  if (a.shape() != b.shape()) {
    std::string pytorch = "they do not broadcast either";
    try {
      pytorch = fmt::format("PyTorch would broadcast them to {} (with a warning), which is seldom what was meant",
                            broadcast_shapes(a.shape(), b.shape(), "mse_loss").str());
    } catch (const Error&) {
    }
    fail("mse_loss: input {} and target {}: shapes differ; {}. Reshape one to the other's shape "
         "(reshape(target, input.shape())), or broadcast_to both if a broadcast is meant",
         a.shape().str(), b.shape().str(), pytorch);
  }
  const Tensor d = a - b;
  return detail::reduce_loss(d * d, reduction);
}

}  // namespace tg
