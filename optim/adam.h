#pragma once
// Adam (Kingma & Ba), as torch.optim.Adam (1.13). With step t:
//   g ← ∇p + wd·p                        (L2 weight decay, added to the gradient)
//   m ← β₁·m + (1 − β₁)·g                (exp_avg)
//   v ← β₂·v + (1 − β₂)·g²               (exp_avg_sq)
//   v̂ ← max(v̂, v) with amsgrad, else v   (max_exp_avg_sq)
//   p ← p − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
#include "optim/optimizer.h"

namespace tg::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  Adam(std::vector<std::pair<std::string, Tensor>> named_params, AdamOptions options = {});
  Adam(std::vector<ParamGroup> groups, AdamOptions options = {});  // see optimizer.h
  std::string type_name() const override { return "Adam"; }
  const AdamOptions& options() const { return options_; }

 protected:
  void update(const Tensor& param, const Tensor& grad, ParamState& state) override;
  bool reads_grad_scale() const override { return true; }
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}; }

 private:
  AdamOptions options_;
};

// Shared by Adam and AdamW: validates the options (errors start with `op`).
void check_adam_options(const AdamOptions& o, const char* op);
// How the weight decay enters: added to the gradient (Adam's L2) or as the
// decoupled shrink p·(1 − lr·wd) before the step (AdamW).
enum class WeightDecay { l2, decoupled };
// The update above on one parameter, one fused kernel pass (kernels/adam_update/adam_element.h);
// creates the buffers on the first step. state.step is the step t. The gradient is read as grad · grad_scale.
void adam_update(const Tensor& param, const Tensor& grad, ParamState& state, double lr, const AdamOptions& o,
                 WeightDecay decay, double grad_scale = 1);

}  // namespace tg::optim
