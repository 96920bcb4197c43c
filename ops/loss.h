#pragma once
// Shared by the losses (cross_entropy, mse_loss): how per-element losses are
// reduced to the result.
#include "core/tensor.h"

namespace tg {

enum class Reduction {
  mean,  // the average over the elements (cross_entropy: over non-ignored targets)
  sum,   // the sum
  none,  // the per-element losses, unreduced
};

namespace detail {
// loss reduced by `reduction` (mean and sum recorded through the mean / sum ops).
Tensor reduce_loss(const Tensor& loss, Reduction reduction);
}  // namespace detail

}  // namespace tg
