#pragma once
#include "core/services/generator.h"
#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

// y = x Wᵀ + b;  x (..., in) -> y (..., out)
// weight (out, in), bias (out,), both U(±1/√in) as in PyTorch.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, LayerOptions options = {},
         Generator& gen = default_generator());
  // With bias, float32, and a generator of one's own.
  Linear(int64_t in_features, int64_t out_features, Generator& gen) : Linear(in_features, out_features, {}, gen) {}
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "Linear"; }

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

  Tensor weight;  // (out, in)
  Tensor bias;    // (out,), undefined when built without bias

 private:
  int64_t in_features_, out_features_;
};

}  // namespace tg::nn
