#include "optim/sgd.h"

#include <cmath>

#include "core/services/error.h"
#include "optim/update_kernels.h"

namespace tg::optim {

namespace {
SGDOptions checked(SGDOptions o) {
  if (std::isnan(o.lr)) fail("SGD: lr must be given, e.g. SGDOptions{{.lr = 0.1}}");
  if (!(o.momentum >= 0)) fail("SGD: momentum must be >= 0, got {}", o.momentum);
  if (!(o.dampening >= 0)) fail("SGD: dampening must be >= 0, got {}", o.dampening);
  if (!(o.weight_decay >= 0)) fail("SGD: weight_decay must be >= 0, got {}", o.weight_decay);
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    fail("SGD: nesterov needs momentum > 0 and dampening = 0, got momentum={} dampening={}", o.momentum,
         o.dampening);
  return o;
}
}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options) : SGD(number(std::move(params)), options) {}

SGD::SGD(std::vector<std::pair<std::string, Tensor>> named_params, SGDOptions options)
    : Optimizer(std::move(named_params), checked(options).lr, "SGD"), options_(options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions options)
    : Optimizer(std::move(groups), checked(options).lr, "SGD"), options_(options) {}

void SGD::update(const Tensor& param, const Tensor& grad, ParamState& state) {
  const SGDOptions& o = options_;
  Tensor d = grad;
  const double weight_decay = weight_decay_for(state, o.weight_decay);
  if (weight_decay != 0) d = axpy(d, weight_decay, param);  // g + wd·p
  if (o.momentum != 0) {
    Tensor& buf = state.buffers["momentum_buffer"];
    if (!buf.defined()) {
      buf = d.clone();  // b = g
    } else {
      scale_(buf, o.momentum);           // b = μ·b
      axpy_(buf, 1 - o.dampening, d);    //   + (1 − τ)·g
    }
    d = o.nesterov ? axpy(d, o.momentum, buf) : buf;  // g + μ·b  or  b
  }
  axpy_(param, -lr_for(state), d);  // p −= lr·g
}

}  // namespace tg::optim
