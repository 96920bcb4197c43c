#pragma once
// How the losses (cross_entropy, mse_loss) reduce per-element losses to the
// result (the reducing itself: ops/detail/reduce_loss.h).
#include "core/tensor/tensor.h"

namespace tg {

enum class Reduction {
  mean,  // the average over the elements (cross_entropy: over non-ignored targets)
  sum,   // the sum
  none,  // the per-element losses, unreduced
};

}  // namespace tg
