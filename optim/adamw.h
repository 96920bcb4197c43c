#pragma once
// AdamW (Loshchilov & Hutter), as torch.optim.AdamW (1.13): weight decay is
// decoupled from the gradient. Each step first shrinks the parameter,
//   p ← p·(1 − lr·wd)
// then takes Adam's step (see adam.h) with the plain gradient.
#include "optim/adam.h"

namespace tg::optim {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  AdamW(std::vector<std::pair<std::string, Tensor>> named_params, AdamWOptions options = {});
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = {});  // see optimizer.h
  std::string type_name() const override { return "AdamW"; }
  const AdamWOptions& options() const { return options_; }

 protected:
  void update(const Tensor& param, const Tensor& grad, ParamState& state) override;
  bool reads_grad_scale() const override { return true; }
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}; }

 private:
  AdamWOptions options_;
  AdamOptions adam_;  // the same numbers, for the shared Adam step
};

}  // namespace tg::optim
