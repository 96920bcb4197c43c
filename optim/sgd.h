#pragma once
// Stochastic gradient descent with momentum, as torch.optim.SGD (1.13):
//   g ← ∇p + wd·p                                  (weight decay)
//   b ← g on the first step, else μ·b + (1 − τ)·g  (momentum buffer, dampening τ)
//   g ← g + μ·b (nesterov)  or  g ← b              (when μ > 0)
//   p ← p − lr·g
#include <cmath>

#include "optim/optimizer.h"

namespace tg::optim {

struct SGDOptions {
  double lr = std::nan("");  // must be given
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening = 0
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options);
  SGD(std::vector<std::pair<std::string, Tensor>> named_params, SGDOptions options);
  SGD(std::vector<ParamGroup> groups, SGDOptions options);  // see optimizer.h
  std::string type_name() const override { return "SGD"; }
  const SGDOptions& options() const { return options_; }

 protected:
  void update(const Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> buffer_names() const override { return {"momentum_buffer"}; }

 private:
  SGDOptions options_;
};

}  // namespace tg::optim
