#pragma once
#include "core/types/shape.h"
#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

// Layer normalisation over the last dims `normalized_shape` (ops/layer_norm.h):
//   LayerNorm({256}) on (B, T, 256)
// weight ones and bias zeros of normalized_shape (none without
// elementwise_affine), as in PyTorch.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "LayerNorm"; }
  const Shape& normalized_shape() const { return normalized_shape_; }

  Tensor weight;  // normalized_shape, undefined without elementwise_affine
  Tensor bias;

 private:
  Shape normalized_shape_;
  double eps_;
};

}  // namespace tg::nn
