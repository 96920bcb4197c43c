#pragma once
#include "core/services/generator.h"
#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

// 1-D convolution over (B, C_in, T) or (C_in, T) (ops/conv1d.h has the formula):
//   Conv1d(80, 256, 5, {.stride = 2, .padding = 2})
// weight (C_out, C_in / groups, K) and bias (C_out) both U(±1/√(C_in / groups · K)),
// as in PyTorch.
class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv1dOptions options = {},
         Generator& gen = default_generator());
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "Conv1d"; }
  const Conv1dOptions& options() const { return options_; }

  Tensor weight;  // (C_out, C_in / groups, K)
  Tensor bias;    // (C_out,), undefined when built without bias

 private:
  Conv1dOptions options_;
};

}  // namespace tg::nn
