#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {
// 1-D convolution (cross-correlation), as torch.nn.functional.conv1d, with
// its argument order:
//   x (B, C_in, T) or (C_in, T), weight (C_out, C_in / groups, K), bias (C_out) or undefined
//   y[b, o, t] = bias[o] + Σ_c Σ_k weight[o, c, k] · x_pad[b, g·C_in/groups + c, t·stride + k·dilation]
// where x_pad has `padding` zeros at both ends of T and g is o's group;
// T_out = ⌊(T + 2·padding − dilation·(K − 1) − 1) / stride⌋ + 1 (at least 1).
// Computed on the matrix-product kernels (im2col): the K strided slices of
// x_pad stacked to (B·T_out, C_in·K) rows, times weightᵀ (C_in·K, C_out),
// so it is recorded through slice, stack, reshape and linear and runs on
// every backend. y is (B, C_out, T_out) (a view of a (B, T_out, C_out) result),
// or (C_out, T_out) for an unbatched x.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), int64_t stride = 1,
              int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1);
}  // namespace tg
