#include "train/grad_scaler.h"

#include <cmath>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "ops/mul.h"
#include "optim/update_kernels.h"

namespace tg::train {

namespace {
// max |g| as a one-element tensor on g's device: inf or NaN when any element is (max propagates NaN).
Tensor largest_magnitude(const Tensor& g) {
  const Tensor flat = contiguous_values(g);
  const Tensor row = make_view(flat, Shape{flat.numel()}, Strides{1}, flat.offset());
  return compute::reduce(ReduceOp::max, compute::unary(UnaryOp::abs, row), 0).to(DType::f64);
}
}  // namespace

GradScaler::GradScaler(GradScalerOptions options) : options_(options), scale_(options.init_scale) {
  if (!(options.init_scale > 0) || !std::isfinite(options.init_scale))
    fail("GradScaler: init_scale must be positive and finite, got {}", options.init_scale);
  if (!(options.growth_factor > 1)) fail("GradScaler: growth_factor must be > 1, got {}", options.growth_factor);
  if (!(options.backoff_factor > 0 && options.backoff_factor < 1))
    fail("GradScaler: backoff_factor must be in (0, 1), got {}", options.backoff_factor);
  if (options.growth_interval < 1) fail("GradScaler: growth_interval must be >= 1, got {}", options.growth_interval);
}

Tensor GradScaler::scale(const Tensor& loss) const {
  check_defined(loss, "GradScaler::scale", "loss");
  if (!options_.enabled) return loss;
  return mul(loss, scale_);
}

void GradScaler::unscale(optim::Optimizer& optimizer) {
  if (stage_ != Stage::ready) fail("GradScaler::unscale: already unscaled (or stepped) since the last update()");
  stage_ = Stage::unscaled;
  found_non_finite_ = false;
  if (!options_.enabled) return;
  NoGrad no_grad;
  // The largest magnitude over all gradients, kept where they are and read back once (on a GPU a read waits).
  Tensor largest;
  for (const Tensor& p : optimizer.parameters()) {
    const Tensor g = p.grad();
    if (!g.defined() || g.numel() == 0) continue;
    const Tensor m = largest_magnitude(g);
    largest = largest.defined() ? compute::binary(BinaryOp::maximum, largest, m.to(largest.device())) : m;
    optim::scale_(g, 1.0 / scale_);
  }
  found_non_finite_ = largest.defined() && !std::isfinite(largest.item());
}

bool GradScaler::step(optim::Optimizer& optimizer) { return step(optimizer, 1.0); }

bool GradScaler::step(optim::Optimizer& optimizer, double grad_scale) {
  if (stage_ == Stage::stepped) fail("GradScaler::step: already stepped; call update() first");
  if (stage_ == Stage::ready) unscale(optimizer);
  stage_ = Stage::stepped;
  if (found_non_finite_) return false;
  optimizer.step(grad_scale);
  return true;
}

void GradScaler::update() {
  if (stage_ != Stage::stepped) fail("GradScaler::update: call step() first");
  stage_ = Stage::ready;
  if (!options_.enabled) return;
  if (found_non_finite_) {
    scale_ *= options_.backoff_factor;
    good_steps_ = 0;
  } else if (++good_steps_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    good_steps_ = 0;
  }
}

std::map<std::string, double> GradScaler::state() const {
  return {{"scale", scale_}, {"good_steps", static_cast<double>(good_steps_)}};
}

void GradScaler::load_state(const std::map<std::string, double>& state) {
  for (const char* key : {"scale", "good_steps"})
    if (!state.count(key)) fail("GradScaler::load_state: missing '{}'", key);
  scale_ = state.at("scale");
  good_steps_ = static_cast<int64_t>(state.at("good_steps"));
  stage_ = Stage::ready;
}

}  // namespace tg::train
