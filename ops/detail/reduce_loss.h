#pragma once
// Shared by the losses (cross_entropy, mse_loss): a per-element loss reduced
// as the user asked.
#include "ops/loss.h"

namespace tg::detail {
// loss reduced by `reduction` (mean and sum recorded through the mean / sum ops).
Tensor reduce_loss(const Tensor& loss, Reduction reduction);
}  // namespace tg::detail
