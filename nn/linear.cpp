#include "nn/linear.h"

#include <tuple>

#include "core/services/error.h"
#include "nn/init.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/transpose.h"

namespace tg::nn {

void check_parameter_dtype(DType dtype, const char* layer) {
  if (is_half(dtype))
    fail("{}: {} parameters are not supported: build it in float32 (or float64); 16-bit products come from a matmul "
         "precision (MatmulPrecisionGuard, core/dispatch/matmul_precision.h), 16-bit storage from .to(DType::{}) on a copy",
         layer, dtype_name(dtype), dtype == DType::bf16 ? "bf16" : "f16");
  if (!is_floating(dtype)) fail("{}: parameters must be float32 or float64, got {}", layer, dtype_name(dtype));
}

Linear::Linear(int64_t in_features, int64_t out_features, LayerOptions options, Generator& gen)
    : in_features_(in_features), out_features_(out_features) {
  check_parameter_dtype(options.dtype, "Linear");
  if (in_features <= 0 || out_features <= 0)
    fail("Linear: sizes must be positive, got in_features={} out_features={}", in_features, out_features);
  std::tie(weight, bias) = init::layer_default({out_features, in_features}, options.bias, options.dtype, gen);
  register_parameter("weight", weight);
  if (bias.defined()) register_parameter("bias", bias);
}

Tensor Linear::forward(const Tensor& x) const {
  check_defined(x, "Linear", "x");
  if (x.ndim() == 0 || x.size(-1) != in_features_)
    fail("Linear: input {} must end in in_features={}", x.shape().str(), in_features_);
  return linear(x, weight, bias);  // (..., in) -> (..., out)
}

}  // namespace tg::nn
