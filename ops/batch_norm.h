#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// Batch normalisation (Ioffe & Szegedy 2015), as torch.nn.functional.batch_norm
// with its argument order: x (N, C), (N, C, L) or (N, C, H, W), statistics per
// channel c over every other axis (n values):
//   training: μ, σ² of the batch (σ² biased, ÷ n); running_mean and running_var, when given,
//             are updated in place, not recorded: running = (1 − momentum)·running + momentum·batch
//             (the variance unbiased, ÷ (n − 1))
//   eval:     μ = running_mean, σ² = running_var
//   y = (x − μ) / √(σ² + ε) ⊙ weight + bias         (weight, bias (C) or undefined)
// One node (kernels/batch_norm/batch_norm.h) saving x, μ and 1/σ:
//   training: dx = weight/σ · (dy − mean(dy) − x̂ ⊙ mean(dy ⊙ x̂))     eval: dx = weight/σ · dy
//   dweight = Σ dy ⊙ x̂,  dbias = Σ dy    (x̂ = (x − μ)/σ; sums over all but C)
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), bool training = false,
                  double momentum = 0.1, double eps = 1e-5);
}  // namespace tg
