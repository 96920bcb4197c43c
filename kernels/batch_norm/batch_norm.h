#pragma once
// Batch normalisation per channel (ops/batch_norm.h): x (B, C, L), the
// statistics taken over B and L (n = B·L values per channel):
//   training: μ_c = Σ x / n,  σ²_c = Σ (x − μ_c)² / n  (biased), and, when
//             running buffers are given, updated in place:
//             running_mean = (1 − momentum)·running_mean + momentum·μ
//             running_var  = (1 − momentum)·running_var  + momentum·σ²·n/(n − 1)  (unbiased)
//   eval:     μ = running_mean, σ² = running_var
//   rstd_c = 1/√(σ²_c + ε),  x̂ = (x − μ) rstd,  y = x̂ ⊙ weight + bias
// Backward, given dy and the forward's mean and rstd, with w = weight (1 when absent):
//   training: dx += w rstd (dy − Σdy/n − x̂ Σ(dy x̂)/n)      eval: dx += w rstd dy
//   dweight += Σ dy x̂,  dbias += Σ dy                       (sums over B and L)
// x, y, dy, dx contiguous (B, C, L); the vectors (C); all of x's float dtype.
// Optional views have data null: weight, bias, running buffers, dx, dweight, dbias.
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct BatchNormArgs {
  View x, weight, bias;
  View running_mean, running_var;  // read in eval; updated in training when given
  View y, mean, rstd;              // written
  bool training = true;
  double momentum = 0.1, eps = 1e-5;
};
struct BatchNormBackwardArgs {
  View x, weight, mean, rstd, dy;
  View dx, dweight, dbias;  // accumulated into; data null: not wanted
  bool training = true;
};

KernelTable<BatchNormArgs>& batch_norm_table();
KernelTable<BatchNormBackwardArgs>& batch_norm_backward_table();

inline void batch_norm(Backend& backend, const BatchNormArgs& args) { batch_norm_table().run(backend, args); }
inline void batch_norm_backward(Backend& backend, const BatchNormBackwardArgs& args) {
  batch_norm_backward_table().run(backend, args);
}

}  // namespace tg::kernels
