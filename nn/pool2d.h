#pragma once
// The 2-D pooling modules (ops/max_pool2d.h, ops/avg_pool2d.h,
// ops/adaptive_avg_pool2d.h have the formulas): no parameters, the same in
// training and evaluation.
//   MaxPool2d(2)   AvgPool2d(3, {.stride = 2, .padding = 1})   AdaptiveAvgPool2d({7, 7})
#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, MaxPool2dOptions options = {});
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "MaxPool2d"; }

 private:
  Size2 kernel_size_;
  MaxPool2dOptions options_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, AvgPool2dOptions options = {});
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "AvgPool2d"; }

 private:
  Size2 kernel_size_;
  AvgPool2dOptions options_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }

 private:
  Size2 output_size_;
};

// Flattens dims start_dim ... end_dim into one, as torch.nn.Flatten (defaults 1, -1):
// (B, C, H, W) -> (B, C·H·W).
class Flatten : public Module {
 public:
  explicit Flatten(int start_dim = 1, int end_dim = -1) : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "Flatten"; }

 private:
  int start_dim_, end_dim_;
};

}  // namespace tg::nn
