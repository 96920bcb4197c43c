#include "ops/avg_pool2d.h"

#include "core/services/profiler.h"
#include "ops/detail/pool2d.h"

namespace tg {

// y = Σ window / divisor;  dx += dy / divisor over each window
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding, bool ceil_mode,
                  bool count_include_pad) {
  const ProfileScope profile("avg_pool2d");
  const auto [H, W] = detail::pool_input_hw("avg_pool2d", x);
  const Size2 s = stride.value_or(kernel_size);
  constexpr auto mode = kernels::PoolMode::avg;
  kernels::PoolAxis rows =
      detail::strided_axis("avg_pool2d", "H", mode, H, kernel_size.h, s.h, padding.h, 1, ceil_mode, count_include_pad);
  kernels::PoolAxis cols =
      detail::strided_axis("avg_pool2d", "W", mode, W, kernel_size.w, s.w, padding.w, 1, ceil_mode, count_include_pad);
  return detail::pool2d_op("avg_pool2d", x, mode, std::move(rows), std::move(cols));
}

}  // namespace tg
