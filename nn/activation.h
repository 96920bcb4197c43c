#pragma once
// Activation functions as modules, for nn::Sequential: each has no parameters
// and one input and one output (the ops themselves are in ops/).
#include "nn/module.h"

namespace tg::nn {

// y = tanh(x)
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "Tanh"; }
};

// y = max(0, x)
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "ReLU"; }
};

// y = 1 / (1 + e^-x)
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "Sigmoid"; }
};

}  // namespace tg::nn
