#pragma once
// Negative log-likelihood per row (cross-entropy after log-softmax), with
// label smoothing ε, the fused kernels of ops/cross_entropy.cpp:
//   logp (N, C) contiguous log-probabilities, target int64 (N), loss (N):
//   loss_i = −(1−ε) logp[i, t_i] − ε/C Σ_c logp[i, c]    (0 where t_i = ignore_index)
//   dlogp[i, c] += dloss_i · −((1−ε)[c = t_i] + ε/C)     (nothing for ignored rows)
// The ε term is skipped at ε = 0, so a −inf log-probability elsewhere is harmless.
// Targets outside [0, C) other than ignore_index are errors (host bodies check
// before writing; the CUDA body reports the first from the device).
#include <cstdint>

#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct NllArgs {
  View logp, target;
  int64_t ignore_index;
  double smoothing;
  View loss;
};
struct NllBackwardArgs {
  View target;
  int64_t ignore_index;
  double smoothing;
  View dloss, dlogp;
};

KernelTable<NllArgs>& nll_table();
KernelTable<NllBackwardArgs>& nll_backward_table();

inline void nll(Backend& backend, const NllArgs& args) { nll_table().run(backend, args); }
inline void nll_backward(Backend& backend, const NllBackwardArgs& args) { nll_backward_table().run(backend, args); }

}  // namespace tg::kernels
