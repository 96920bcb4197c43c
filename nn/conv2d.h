#pragma once
#include "core/services/generator.h"
#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

// 2-D convolution over (B, C_in, H, W) or (C_in, H, W) (ops/conv2d.h has the formula):
//   Conv2d(1, 32, 3, {.padding = 1})
// weight (C_out, C_in / groups, KH, KW) and bias (C_out) both U(±1/√(C_in / groups · KH · KW)),
// as PyTorch's default (kaiming_uniform with a = √5, and its bias rule).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Conv2dOptions options = {},
         Generator& gen = default_generator());
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "Conv2d"; }
  const Conv2dOptions& options() const { return options_; }

  Tensor weight;  // (C_out, C_in / groups, KH, KW)
  Tensor bias;    // (C_out,), undefined when built without bias

 private:
  Conv2dOptions options_;
};

}  // namespace tg::nn
