#include "nn/pool2d.h"

#include "core/services/error.h"
#include "ops/adaptive_avg_pool2d.h"
#include "ops/avg_pool2d.h"
#include "ops/max_pool2d.h"
#include "ops/reshape.h"

namespace tg::nn {

MaxPool2d::MaxPool2d(Size2 kernel_size, MaxPool2dOptions options) : kernel_size_(kernel_size), options_(options) {
  if (kernel_size.h < 1 || kernel_size.w < 1) fail("MaxPool2d: kernel_size must be >= 1, got {}", kernel_size.str());
}
Tensor MaxPool2d::forward(const Tensor& x) const {
  return max_pool2d(x, kernel_size_, options_.stride, options_.padding, options_.dilation, options_.ceil_mode);
}

AvgPool2d::AvgPool2d(Size2 kernel_size, AvgPool2dOptions options) : kernel_size_(kernel_size), options_(options) {
  if (kernel_size.h < 1 || kernel_size.w < 1) fail("AvgPool2d: kernel_size must be >= 1, got {}", kernel_size.str());
}
Tensor AvgPool2d::forward(const Tensor& x) const {
  return avg_pool2d(x, kernel_size_, options_.stride, options_.padding, options_.ceil_mode,
                    options_.count_include_pad);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {
  if (output_size.h < 1 || output_size.w < 1)
    fail("AdaptiveAvgPool2d: output_size must be >= 1, got {}", output_size.str());
}
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) const { return adaptive_avg_pool2d(x, output_size_); }

Tensor Flatten::forward(const Tensor& x) const { return flatten(x, start_dim_, end_dim_); }

}  // namespace tg::nn
