#include "nn/conv2d.h"

#include <tuple>

#include "core/services/error.h"
#include "nn/init.h"
#include "ops/conv2d.h"

namespace tg::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Conv2dOptions options, Generator& gen)
    : options_(options) {
  check_parameter_dtype(options.dtype, "Conv2d");
  if (in_channels <= 0 || out_channels <= 0 || kernel_size.h <= 0 || kernel_size.w <= 0)
    fail("Conv2d: sizes must be positive, got in_channels={} out_channels={} kernel_size={}", in_channels,
         out_channels, kernel_size.str());
  if (options.groups < 1 || in_channels % options.groups != 0 || out_channels % options.groups != 0)
    fail("Conv2d: groups={} must divide in_channels={} and out_channels={}", options.groups, in_channels,
         out_channels);
  if (options.stride.h < 1 || options.stride.w < 1 || options.dilation.h < 1 || options.dilation.w < 1 ||
      options.padding.h < 0 || options.padding.w < 0)
    fail("Conv2d: stride and dilation must be >= 1 and padding >= 0, got stride={} padding={} dilation={}",
         options.stride.str(), options.padding.str(), options.dilation.str());
  std::tie(weight, bias) = init::layer_default(
      {out_channels, in_channels / options.groups, kernel_size.h, kernel_size.w}, options.bias, options.dtype, gen);
  register_parameter("weight", weight);
  if (bias.defined()) register_parameter("bias", bias);
}

Tensor Conv2d::forward(const Tensor& x) const {
  return conv2d(x, weight, bias, options_.stride, options_.padding, options_.dilation, options_.groups);
}

}  // namespace tg::nn
