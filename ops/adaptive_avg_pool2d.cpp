#include "ops/adaptive_avg_pool2d.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/detail/pool2d.h"

namespace tg {

namespace {
// Output o of `outputs` averages [⌊o·size/outputs⌋, ⌈(o+1)·size/outputs⌉).
kernels::PoolAxis adaptive_axis(int64_t size, int64_t outputs) {
  kernels::PoolAxis axis;
  for (int64_t o = 0; o < outputs; ++o) {
    const int64_t start = o * size / outputs, end = ((o + 1) * size + outputs - 1) / outputs;
    axis.first.push_back(start);
    axis.count.push_back(end - start);
    axis.divisor.push_back(end - start);
  }
  return axis;
}
}  // namespace

// y = mean of each adaptive window;  dx += dy / window size
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  const ProfileScope profile("adaptive_avg_pool2d");
  const auto [H, W] = detail::pool_input_hw("adaptive_avg_pool2d", x);
  if (output_size.h < 1 || output_size.w < 1)
    fail("adaptive_avg_pool2d: output_size must be >= 1, got {}", output_size.str());
  if (H < 1 || W < 1) fail("adaptive_avg_pool2d: x {} has no positions to average", x.shape().str());
  kernels::PoolAxis rows = adaptive_axis(H, output_size.h), cols = adaptive_axis(W, output_size.w);
  return detail::pool2d_op("adaptive_avg_pool2d", x, kernels::PoolMode::avg, std::move(rows), std::move(cols));
}

}  // namespace tg
