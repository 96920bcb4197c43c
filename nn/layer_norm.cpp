#include "nn/layer_norm.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "ops/layer_norm.h"

namespace tg::nn {

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions options)
    : normalized_shape_(std::move(normalized_shape)), eps_(options.eps) {
  check_parameter_dtype(options.dtype, "LayerNorm");
  if (normalized_shape_.size() == 0 || normalized_shape_.numel() == 0)
    fail("LayerNorm: normalized_shape must name at least one dim and one element, got {}", normalized_shape_.str());
  if (!(options.eps >= 0)) fail("LayerNorm: eps must be >= 0, got {}", options.eps);
  if (options.elementwise_affine) {
    weight = ones(normalized_shape_, {options.dtype});
    bias = zeros(normalized_shape_, {options.dtype});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, normalized_shape_, weight, bias, eps_); }

}  // namespace tg::nn
