#pragma once
#include "core/tensor/tensor.h"
#include "ops/size2.h"

namespace tg {
// Adaptive 2-D average pooling, as torch.nn.functional.adaptive_avg_pool2d:
//   x (B, C, H, W) or (C, H, W) -> (B, C, OH, OW) or (C, OH, OW)
//   output row i averages input rows ⌊i·H/OH⌋ ... ⌈(i+1)·H/OH⌉ − 1 (likewise columns),
//   so windows may overlap and differ in size when OH does not divide H;
//   dx += dy / window size over each window.
// One node (kernels/pool2d/pool2d.h) saving nothing.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);
}  // namespace tg
