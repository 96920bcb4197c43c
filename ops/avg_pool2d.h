#pragma once
#include <optional>

#include "core/tensor/tensor.h"
#include "ops/size2.h"

namespace tg {
// 2-D average pooling, as torch.nn.functional.avg_pool2d with its argument order:
//   x (B, C, H, W) or (C, H, W) -> (B, C, OH, OW) or (C, OH, OW)
//   y[b, c, i, j] = Σ_{window} x_pad / divisor,   dx += dy / divisor over each window
// the window rows i·sh − ph ... i·sh − ph + KH − 1 cut at H + ph (likewise columns); divisor:
// the cut window's size (count_include_pad, PyTorch's default), or the number of its positions inside x.
// stride defaults to kernel_size; padding at most half the kernel; ceil_mode as max_pool2d.
// One node (kernels/pool2d/pool2d.h) saving nothing. (PyTorch's divisor_override is not offered.)
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true);
}  // namespace tg
