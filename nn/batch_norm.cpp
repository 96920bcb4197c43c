#include "nn/batch_norm.h"

#include <algorithm>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "core/tensor/compute.h"
#include "ops/batch_norm.h"

namespace tg::nn {

BatchNorm::BatchNorm(const char* name, int64_t num_features, BatchNormOptions options, std::vector<int> ranks,
                     const char* shapes)
    : name_(name), num_features_(num_features), options_(options), ranks_(std::move(ranks)), shapes_(shapes) {
  check_parameter_dtype(options.dtype, name);
  if (num_features < 1) fail("{}: num_features must be >= 1, got {}", name, num_features);
  if (!(options.eps >= 0)) fail("{}: eps must be >= 0, got {}", name, options.eps);
  if (options.affine) {
    weight = ones(Shape{num_features}, {options.dtype});
    bias = zeros(Shape{num_features}, {options.dtype});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  if (options.track_running_stats) {
    running_mean = zeros(Shape{num_features}, {options.dtype});
    running_var = ones(Shape{num_features}, {options.dtype});
    num_batches_tracked = zeros(Shape{}, {DType::i64});
    register_buffer("running_mean", running_mean);
    register_buffer("running_var", running_var);
    register_buffer("num_batches_tracked", num_batches_tracked);
  }
}

Tensor BatchNorm::forward(const Tensor& x) const {
  check_defined(x, name_, "x");
  if (std::find(ranks_.begin(), ranks_.end(), x.ndim()) == ranks_.end())
    fail("{}: x must be {}, got {}", name_, shapes_, x.shape().str());
  if (x.size(1) != num_features_)
    fail("{}: x {} has {} channels (dim 1), the module was built for {}", name_, x.shape().str(), x.size(1),
         num_features_);
  const bool tracking = running_mean.defined();
  const bool use_batch = is_training() || !tracking;
  Tensor y = batch_norm(x, tracking ? running_mean : Tensor(), tracking ? running_var : Tensor(), weight, bias,
                        use_batch, options_.momentum, options_.eps);
  if (is_training() && tracking) {  // num_batches_tracked += 1 (a counter, not recorded), once the batch went through
    const NoGrad no_grad;
    compute::fill(num_batches_tracked, num_batches_tracked.item() + 1);
  }
  return y;
}

BatchNorm1d::BatchNorm1d(int64_t num_features, BatchNormOptions options)
    : BatchNorm("BatchNorm1d", num_features, options, {2, 3}, "(N, C) or (N, C, L)") {}

BatchNorm2d::BatchNorm2d(int64_t num_features, BatchNormOptions options)
    : BatchNorm("BatchNorm2d", num_features, options, {4}, "(N, C, H, W)") {}

}  // namespace tg::nn
