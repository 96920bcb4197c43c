#include "optim/adam.h"

#include <cmath>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "kernels/adam_update/adam_update.h"

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
  if (!b.defined()) b = compute::zeros_like(like);
  return b;
}
}  // namespace

void adam_update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, const AdamOptions& o,
                 WeightDecay decay, double grad_scale) {
  const Tensor& m = buffer(state, "exp_avg", param);
  const Tensor& v = buffer(state, "exp_avg_sq", param);
  const Tensor* v_max = o.amsgrad ? &buffer(state, "max_exp_avg_sq", param) : nullptr;

  const double t = static_cast<double>(state.step);
  AdamStep step;
  step.beta1 = o.beta1;
  step.beta2 = o.beta2;
  step.step_size = lr / (1 - std::pow(o.beta1, t));                 // lr / bc₁
  step.sqrt_bias_correction2 = std::sqrt(1 - std::pow(o.beta2, t));  // √bc₂
  step.eps = o.eps;
  if (decay == WeightDecay::l2) step.weight_decay = o.weight_decay;
  if (decay == WeightDecay::decoupled && o.weight_decay != 0) step.param_scale = 1 - lr * o.weight_decay;
  step.grad_scale = grad_scale;

  // The kernel wants contiguous operands: strided ones (a parameter given as
  // a view, an expanded gradient, buffers restored from a checkpoint) are
  // updated as contiguous copies and written back.
  const Tensor targets[] = {param, m, v, v_max ? *v_max : Tensor()};
  Tensor work[4];
  for (int i = 0; i < 4; ++i) work[i] = targets[i].defined() ? contiguous_values(targets[i]) : Tensor();
  const Tensor g = contiguous_values(grad);
  for (const Tensor& t : {g, work[1], work[2], work[3]})
    if (t.defined() && t.device() != param.device())
      fail("adam_update: parameter on {} and an operand on {}", param.device().str(), t.device().str());
  for (const Tensor& t : work)
    if (t.defined()) compute::mark_written(t);
  kernels::adam_update(backend_for(param.device()), {work[0].view(), g.view(), work[1].view(), work[2].view(),
                                                     v_max ? work[3].view() : View{}, step});
  for (int i = 0; i < 4; ++i)
    if (targets[i].defined() && !work[i].is_same(targets[i])) compute::copy_into(work[i], targets[i]);
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam(number(std::move(params)), options) {}

Adam::Adam(std::vector<std::pair<std::string, Tensor>> named_params, AdamOptions options)
    : Optimizer(std::move(named_params), options.lr, "Adam"), options_(options) {
  check_adam_options(options_, "Adam");
}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options)
    : Optimizer(std::move(groups), options.lr, "Adam"), options_(options) {
  check_adam_options(options_, "Adam");
}

void Adam::update(const Tensor& param, const Tensor& grad, ParamState& state) {
  AdamOptions group = options_;
  group.weight_decay = weight_decay_for(state, options_.weight_decay);
  adam_update(param, grad, state, lr_for(state), group, WeightDecay::l2, grad_scale());
}

}  // namespace tg::optim
