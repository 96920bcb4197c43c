#include "ops/max_pool2d.h"

#include "core/services/profiler.h"
#include "ops/detail/pool2d.h"

namespace tg {

// y = max over each window;  dx[argmax] += dy
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding, Size2 dilation,
                  bool ceil_mode) {
  const ProfileScope profile("max_pool2d");
  const auto [H, W] = detail::pool_input_hw("max_pool2d", x);
  const Size2 s = stride.value_or(kernel_size);
  constexpr auto mode = kernels::PoolMode::max;
  kernels::PoolAxis rows =
      detail::strided_axis("max_pool2d", "H", mode, H, kernel_size.h, s.h, padding.h, dilation.h, ceil_mode, false);
  kernels::PoolAxis cols =
      detail::strided_axis("max_pool2d", "W", mode, W, kernel_size.w, s.w, padding.w, dilation.w, ceil_mode, false);
  return detail::pool2d_op("max_pool2d", x, mode, std::move(rows), std::move(cols));
}

}  // namespace tg
