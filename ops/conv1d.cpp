#include "ops/conv1d.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/autograd/public_op.h"
#include "ops/concat.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/reshape.h"
#include "ops/slice.h"
#include "ops/stack.h"
#include "ops/transpose.h"

namespace tg {

namespace {

// One group: x (B, C, T) with its padding already in T, weight (O, C, K), bias (O) or undefined.
Tensor conv1d_group(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t dilation,
                    int64_t t_out) {
  const int64_t B = x.size(0), C = x.size(1), O = weight.size(0), K = weight.size(2);
  std::vector<Tensor> taps;  // tap k: x[:, :, k·d + t·s] for t < T_out, (B, C, T_out)
  taps.reserve(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    const int64_t start = k * dilation;
    taps.push_back(slice(x, 2, start, start + stride * (t_out - 1) + 1, stride));
  }
  const Tensor columns = reshape(permute(stack(taps, 3), {0, 2, 1, 3}), Shape{B * t_out, C * K});  // (B·T_out, C·K)
  const Tensor y = linear(columns, reshape(weight, Shape{O, C * K}), bias);                        // (B·T_out, O)
  return permute(reshape(y, Shape{B, t_out, O}), {0, 2, 1});                                       // (B, O, T_out)
}

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
              int64_t dilation, int64_t groups) {
  const ProfileScope profile("conv1d");
  const PublicOpScope scope("conv1d", {{"x", x}, {"weight", weight}, {"bias", bias}});  // names its inner ops' errors
  check_defined(x, "conv1d", "x");
  check_defined(weight, "conv1d", "weight");
  check_same_kind(x, weight, "conv1d");
  check_floating(x, "conv1d");
  if (bias.defined()) check_same_kind(x, bias, "conv1d");
  if (x.ndim() != 2 && x.ndim() != 3)
    fail("conv1d: x must be (B, C_in, T) or (C_in, T), got {}", x.shape().str());
  if (weight.ndim() != 3) fail("conv1d: weight must be (C_out, C_in / groups, K), got {}", weight.shape().str());
  if (stride < 1 || dilation < 1 || padding < 0 || groups < 1)
    fail("conv1d: stride, dilation and groups must be >= 1 and padding >= 0, got stride={} padding={} dilation={} "
         "groups={}", stride, padding, dilation, groups);
  const Tensor xb = x.ndim() == 3 ? x : unsqueeze(x, 0);  // (B, C_in, T)
  const int64_t B = xb.size(0), C_in = xb.size(1), T = xb.size(2);
  const int64_t C_out = weight.size(0), K = weight.size(2);
  if (C_in % groups != 0 || C_out % groups != 0)
    fail("conv1d: groups={} must divide C_in={} and C_out={}", groups, C_in, C_out);
  if (weight.size(1) != C_in / groups)
    fail("conv1d: x {} has {} channels, so weight {} needs {} input channels per group (groups={}), got {}",
         x.shape().str(), C_in, weight.shape().str(), C_in / groups, groups, weight.size(1));
  if (K < 1) fail("conv1d: weight {} has no taps (K = 0)", weight.shape().str());
  if (bias.defined() && bias.shape() != Shape{C_out})
    fail("conv1d: bias must be {}, got {}", Shape{C_out}.str(), bias.shape().str());
  const int64_t span = dilation * (K - 1) + 1;  // input steps one output reads
  if (T + 2 * padding < span)
    fail("conv1d: x {} padded by {} on each side has {} steps, fewer than the {} one output reads "
         "(K={}, dilation={})", x.shape().str(), padding, T + 2 * padding, span, K, dilation);
  const int64_t t_out = (T + 2 * padding - span) / stride + 1;

  Tensor padded = xb;
  if (padding > 0) {
    const Tensor zeros_side = zeros(Shape{B, C_in, padding}, {x.dtype(), x.device()});
    padded = concat({zeros_side, xb, zeros_side}, 2);
  }
  Tensor y;
  if (groups == 1) {
    y = conv1d_group(padded, weight, bias, stride, dilation, t_out);
  } else {
    const int64_t c_in = C_in / groups, c_out = C_out / groups;
    std::vector<Tensor> outputs;
    for (int64_t g = 0; g < groups; ++g)
      outputs.push_back(conv1d_group(slice(padded, 1, g * c_in, (g + 1) * c_in), slice(weight, 0, g * c_out, (g + 1) * c_out),
                                     bias.defined() ? slice(bias, 0, g * c_out, (g + 1) * c_out) : Tensor(), stride,
                                     dilation, t_out));
    y = concat(outputs, 1);
  }
  return x.ndim() == 3 ? y : squeeze(y, 0);
}

}  // namespace tg
