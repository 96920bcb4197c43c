#pragma once
#include "core/tensor/tensor.h"
#include "ops/loss.h"

namespace tg {
// Mean absolute error, as F.l1_loss: loss_i = |a_i − b_i|, reduced.
//   da += sign(a − b) ⊙ dloss (0 where a = b), db the opposite
Tensor l1_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::mean);

// Huber-like loss, as F.smooth_l1_loss, d = a − b:
//   loss_i = 0.5 d_i² / β   where |d_i| < β,   |d_i| − 0.5 β  elsewhere   (β = 0: l1_loss)
//   da += (d / β  or  sign(d)) ⊙ dloss
Tensor smooth_l1_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::mean, double beta = 1.0);
}  // namespace tg
