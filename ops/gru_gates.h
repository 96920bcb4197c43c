#pragma once
#include "core/tensor/tensor.h"

namespace tg {

// The gate arithmetic of one GRU step as one op: one tape node and one kernel
// each way, instead of about a dozen (slices, adds, sigmoid, tanh, muls).
// gi (B, 3H) = x W_ihᵀ + b_ih and gh (B, 3H) = h W_hhᵀ + b_hh, gates r | z | n;
// h (B, H) the previous state. Returns h' (B, H):
//   r = σ(gi_r + gh_r),  z = σ(gi_z + gh_z),  n = tanh(gi_n + r ⊙ gh_n),
//   h' = (1 - z) ⊙ n + z ⊙ h   (computed as n + z ⊙ (h - n))
Tensor gru_gates(const Tensor& gi, const Tensor& gh, const Tensor& h);

}  // namespace tg
