#include "optim/adamw.h"

namespace tg::optim {

namespace {
AdamOptions as_adam(const AdamWOptions& o) {
  return AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad};
}
}  // namespace

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options) : AdamW(number(std::move(params)), options) {}

AdamW::AdamW(std::vector<std::pair<std::string, Tensor>> named_params, AdamWOptions options)
    : Optimizer(std::move(named_params), options.lr, "AdamW"), options_(options), adam_(as_adam(options)) {
  check_adam_options(adam_, "AdamW");
}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : Optimizer(std::move(groups), options.lr, "AdamW"), options_(options), adam_(as_adam(options)) {
  check_adam_options(adam_, "AdamW");
}

void AdamW::update(const Tensor& param, const Tensor& grad, ParamState& state) {
  AdamOptions group = adam_;
  group.weight_decay = weight_decay_for(state, adam_.weight_decay);
  // p·(1 − lr·wd), then Adam
  adam_update(param, grad, state, lr_for(state), group, WeightDecay::decoupled, grad_scale());
}

}  // namespace tg::optim
