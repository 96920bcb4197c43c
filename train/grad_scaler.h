#pragma once
// Dynamic loss scaling for float16 training (Micikevicius et al. 2018;
// PyTorch's GradScaler): the loss is multiplied by a scale S before
// backward, so that small gradients do not flush to zero in 16 bits; before
// the step the gradients are divided by S again. A step whose gradients hold
// an inf or NaN (S was too large) is skipped and S shrinks; after
// `growth_interval` good steps in a row S grows.
//
//   tg::train::GradScaler scaler;
//   scaler.scale(loss).backward();
//   scaler.unscale(adam);              // optional: before clip_grad_norm
//   scaler.step(adam);                 // unscales (if not yet) and steps unless non-finite
//   scaler.update();                   // S ← S·backoff after a skipped step; S·growth after an interval of good ones
//
// The check reads one number per step back to the host (max |g| over all gradients).
#include <cstdint>
#include <map>
#include <string>

#include "core/tensor/tensor.h"
#include "optim/optimizer.h"

namespace tg::train {

struct GradScalerOptions {
  double init_scale = 65536.0;  // 2¹⁶
  double growth_factor = 2.0;   // > 1
  double backoff_factor = 0.5;  // in (0, 1)
  int64_t growth_interval = 2000;
  bool enabled = true;  // false: scale() and unscale() do nothing, step() always steps
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions options = {});
  // loss · S (recorded: its backward hands S · the gradients down).
  Tensor scale(const Tensor& loss) const;
  // Divides the optimizer's gradients by S and notes whether any is inf or
  // NaN; once per step (a second call before update() fails).
  void unscale(optim::Optimizer& optimizer);
  // Unscales if not done, then optimizer.step() unless a gradient was not
  // finite. Returns whether it stepped.
  bool step(optim::Optimizer& optimizer);
  // The same with optimizer.step(grad_scale): a clipping factor folded in (optim::clip_grad_factor).
  bool step(optim::Optimizer& optimizer, double grad_scale);
  // Adapts S after step(); fails if step() has not run since the last update().
  void update();
  double scale_value() const { return scale_; }
  int64_t good_steps() const { return good_steps_; }
  bool enabled() const { return options_.enabled; }
  // For checkpoints: "scale", "good_steps".
  std::map<std::string, double> state() const;
  void load_state(const std::map<std::string, double>& state);

 private:
  GradScalerOptions options_;
  double scale_;
  int64_t good_steps_ = 0;
  enum class Stage { ready, unscaled, stepped } stage_ = Stage::ready;
  bool found_non_finite_ = false;
};

}  // namespace tg::train
