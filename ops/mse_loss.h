#pragma once
#include "core/tensor/tensor.h"
#include "ops/loss.h"

namespace tg {
// Mean squared error: loss_i = (a_i - b_i)², reduced by `reduction`
// (mean: Σ loss_i / n).  a and b have the same shape.
//   da += 2 (a - b) ⊙ dloss,  db += -2 (a - b) ⊙ dloss
Tensor mse_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::mean);
}  // namespace tg
