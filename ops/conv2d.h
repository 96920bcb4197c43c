#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"
#include "ops/size2.h"

namespace tg {
// 2-D convolution (cross-correlation), as torch.nn.functional.conv2d, with
// its argument order:
//   x (B, C_in, H, W) or (C_in, H, W), weight (C_out, C_in / groups, KH, KW), bias (C_out) or undefined
//   y[b, o, i, j] = bias[o] + Σ_c Σ_p Σ_q weight[o, c, p, q] ·
//                   x_pad[b, g·C_in/groups + c, i·sh + p·dh, j·sw + q·dw]
// where x_pad has `padding` zeros on each side and g is o's group;
// OH = ⌊(H + 2·ph − dh·(KH − 1) − 1) / sh⌋ + 1, likewise OW.
// y is (B, C_out, OH, OW), or (C_out, OH, OW) for an unbatched x.
//
// One node, on the matrix-product kernels (im2col, kernels/conv2d/conv2d.h):
// per sample, cols_b (C_in·KH·KW, OH·OW) holds each window as a column, and
//   y_b = weight (C_out, C_in·KH·KW) @ cols_b                       (per group)
//   dweight += Σ_b dy_b @ cols_bᵀ,  dbias += Σ_{b,i,j} dy,  dx += col2im(weightᵀ @ dy_b)
// It saves cols (for dweight) and weight (for dx). A 1×1 kernel with
// stride 1 and no padding skips im2col (cols is x). Non-contiguous x and
// weight are copied (not recorded) first. Host backends; a GPU refuses it.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1);
}  // namespace tg
