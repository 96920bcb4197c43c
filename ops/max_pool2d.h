#pragma once
#include <optional>

#include "core/tensor/tensor.h"
#include "ops/size2.h"

namespace tg {
// 2-D max pooling, as torch.nn.functional.max_pool2d with its argument order:
//   x (B, C, H, W) or (C, H, W) -> (B, C, OH, OW) or (C, OH, OW)
//   y[b, c, i, j] = max_{p < KH, q < KW} x_pad[b, c, i·sh + p·dh, j·sw + q·dw]   (padding never wins)
//   dx[b, c, argmax] += dy[b, c, i, j]   (the first maximum of each window, row-major; a NaN wins)
// A window that dilation steps wholly over the input gives −∞ (as PyTorch) and no gradient.
// stride defaults to kernel_size; padding at most half the kernel;
// OH = ⌊(H + 2·ph − dh·(KH − 1) − 1) / sh⌋ + 1 (⌈ ⌉ with ceil_mode, no window starting in the padding).
// One node (kernels/pool2d/pool2d.h) saving the argmax indices.
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0,
                  Size2 dilation = 1, bool ceil_mode = false);
}  // namespace tg
