#pragma once
// One Adam step in place over a parameter (optim/adam.cpp), the formulas in
// adam_element.h: param, grad, exp_avg, exp_avg_sq and max_exp_avg_sq
// (Amsgrad; absent, data null, without) share shape and float dtype and are
// contiguous. The scalars come from the optimizer once per parameter.
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg {

// The per-parameter scalars of one Adam step, in double.
struct AdamStep {
  double beta1 = 0.9, beta2 = 0.999;
  double step_size = 1e-3;             // lr / bc₁
  double sqrt_bias_correction2 = 1;    // √bc₂
  double eps = 1e-8;
  double weight_decay = 0;             // L2, added to the gradient (Adam)
  double param_scale = 1;              // decoupled decay 1 − lr·wd (AdamW)
  double grad_scale = 1;               // ∇p read as ∇p·s (a clipping factor folded in: Optimizer::step(s))
};

namespace kernels {

struct AdamArgs {
  View param, grad, exp_avg, exp_avg_sq;
  View max_exp_avg_sq;  // data == nullptr without Amsgrad
  AdamStep step;
};

KernelTable<AdamArgs>& adam_update_table();

inline void adam_update(Backend& backend, const AdamArgs& args) { adam_update_table().run(backend, args); }

}  // namespace kernels

}  // namespace tg
