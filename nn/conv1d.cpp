#include "nn/conv1d.h"

#include <tuple>

#include "core/services/error.h"
#include "nn/init.h"
#include "ops/conv1d.h"

namespace tg::nn {

Conv1d::Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv1dOptions options, Generator& gen)
    : options_(options) {
  check_parameter_dtype(options.dtype, "Conv1d");
  if (in_channels <= 0 || out_channels <= 0 || kernel_size <= 0)
    fail("Conv1d: sizes must be positive, got in_channels={} out_channels={} kernel_size={}", in_channels,
         out_channels, kernel_size);
  if (options.groups < 1 || in_channels % options.groups != 0 || out_channels % options.groups != 0)
    fail("Conv1d: groups={} must divide in_channels={} and out_channels={}", options.groups, in_channels,
         out_channels);
  if (options.stride < 1 || options.dilation < 1 || options.padding < 0)
    fail("Conv1d: stride and dilation must be >= 1 and padding >= 0, got stride={} padding={} dilation={}",
         options.stride, options.padding, options.dilation);
  std::tie(weight, bias) =
      init::layer_default({out_channels, in_channels / options.groups, kernel_size}, options.bias, options.dtype, gen);
  register_parameter("weight", weight);
  if (bias.defined()) register_parameter("bias", bias);
}

Tensor Conv1d::forward(const Tensor& x) const {
  return conv1d(x, weight, bias, options_.stride, options_.padding, options_.dilation, options_.groups);
}

}  // namespace tg::nn
