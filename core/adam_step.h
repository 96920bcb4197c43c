#pragma once
// The scalars of one Adam step that the optimizer hands to a backend's
// adam_update kernel (core/backend.h); the formula they feed is in
// core/adam_update.h, which only the backends include.

namespace tg {

// The per-parameter scalars of one Adam step, in double.
struct AdamStep {
  double beta1 = 0.9, beta2 = 0.999;
  double step_size = 1e-3;             // lr / bc₁
  double sqrt_bias_correction2 = 1;    // √bc₂
  double eps = 1e-8;
  double weight_decay = 0;             // L2, added to the gradient (Adam)
  double param_scale = 1;              // decoupled decay 1 − lr·wd (AdamW)
};

}  // namespace tg
