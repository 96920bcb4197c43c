#include "nn/linear.h"

#include <cmath>

#include "core/error.h"
#include "nn/init.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/transpose.h"

namespace tg::nn {

Linear::Linear(int64_t in_features, int64_t out_features, LayerOptions options, Generator& gen)
    : in_features_(in_features), out_features_(out_features) {
  if (in_features <= 0 || out_features <= 0)
    fail("Linear: sizes must be positive, got in_features={} out_features={}", in_features, out_features);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight = Tensor::empty({out_features, in_features}, {options.dtype});
  init::uniform_(weight, -bound, bound, gen);
  register_parameter("weight", weight);
  if (options.bias) {
    bias = Tensor::empty({out_features}, {options.dtype});
    init::uniform_(bias, -bound, bound, gen);
    register_parameter("bias", bias);
  }
}

Tensor Linear::forward(const Tensor& x) const {
  check_defined(x, "Linear", "x");
  if (x.ndim() == 0 || x.size(-1) != in_features_)
    fail("Linear: input {} must end in in_features={}", x.shape().str(), in_features_);
  const Tensor y = matmul(x, transpose(weight, 0, 1));  // (..., in) @ (in, out)
  return bias.defined() ? y + bias : y;
}

}  // namespace tg::nn
