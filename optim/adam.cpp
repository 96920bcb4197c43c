#include "optim/adam.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels.h"
#include "optim/update_kernels.h"

namespace tg::optim {

void check_adam_options(const AdamOptions& o, const char* op) {
  if (!(o.lr >= 0)) fail("{}: lr must be >= 0, got {}", op, o.lr);
  if (!(o.eps >= 0)) fail("{}: eps must be >= 0, got {}", op, o.eps);
  if (!(o.beta1 >= 0 && o.beta1 < 1)) fail("{}: beta1 must be in [0, 1), got {}", op, o.beta1);
  if (!(o.beta2 >= 0 && o.beta2 < 1)) fail("{}: beta2 must be in [0, 1), got {}", op, o.beta2);
  if (!(o.weight_decay >= 0)) fail("{}: weight_decay must be >= 0, got {}", op, o.weight_decay);
}

namespace {
Tensor& buffer(ParamState& state, const char* name, const Tensor& like) {
  Tensor& b = state.buffers[name];
  if (!b.defined()) b = kernels::zeros_like(like);
  return b;
}
}  // namespace

void adam_moment_step(const Tensor& param, const Tensor& grad, ParamState& state, double lr,
                      const AdamOptions& o) {
  const Tensor& m = buffer(state, "exp_avg", param);
  const Tensor& v = buffer(state, "exp_avg_sq", param);
  scale_(m, o.beta1);  // m = β₁·m + (1 − β₁)·g
  axpy_(m, 1 - o.beta1, grad);
  scale_(v, o.beta2);  // v = β₂·v + (1 − β₂)·g²
  add_square_(v, 1 - o.beta2, grad);

  const double t = static_cast<double>(state.step);
  const double bias_correction1 = 1 - std::pow(o.beta1, t);
  const double bias_correction2 = 1 - std::pow(o.beta2, t);
  const double step_size = lr / bias_correction1;
  Tensor second = v;
  if (o.amsgrad) {
    const Tensor& v_max = buffer(state, "max_exp_avg_sq", param);
    maximum_(v_max, v);
    second = v_max;
  }
  const Tensor denom = sqrt_div_add(second, std::sqrt(bias_correction2), o.eps);  // √v̂/√bc₂ + ε
  add_ratio_(param, -step_size, m, denom);                                       // p −= step_size·m/denom
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam(number(std::move(params)), options) {}

Adam::Adam(std::vector<std::pair<std::string, Tensor>> named_params, AdamOptions options)
    : Optimizer(std::move(named_params), options.lr, "Adam"), options_(options) {
  check_adam_options(options_, "Adam");
}

void Adam::update(const Tensor& param, const Tensor& grad, ParamState& state) {
  const Tensor g = options_.weight_decay != 0 ? axpy(grad, options_.weight_decay, param) : grad;  // g + wd·p
  adam_moment_step(param, g, state, lr(), options_);
}

}  // namespace tg::optim
