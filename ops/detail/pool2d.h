#pragma once
// Shared machinery of the 2-D pools (max_pool2d, avg_pool2d,
// adaptive_avg_pool2d): each op file holds its formula and its windows;
// this checks x, runs the pool2d kernel (kernels/pool2d/pool2d.h) and records
// the node: y = pool(x);  dx += pool2d_backward(dy) (max: to the argmax; avg: dy / divisor over each window).
#include "core/tensor/tensor.h"
#include "kernels/pool2d/pool2d.h"

namespace tg::detail {

// x (B, C, H, W) or (C, H, W), checked by the op (pool_input_hw gives H and W).
Tensor pool2d_op(const char* name, const Tensor& x, kernels::PoolMode mode, kernels::PoolAxis rows,
                 kernels::PoolAxis cols);
// Checks that x is a floating (B, C, H, W) or (C, H, W) tensor on a host backend; returns (H, W).
std::pair<int64_t, int64_t> pool_input_hw(const char* name, const Tensor& x);
// The windows of a strided pool along one axis of `size` (PyTorch's pooling output size):
// first = o·stride − padding; max: count = kernel, step = dilation; avg: the window cut at
// size + padding, divided by its length (count_include_pad) or by its inside part's.
kernels::PoolAxis strided_axis(const char* name, const char* axis, kernels::PoolMode mode, int64_t size,
                               int64_t kernel, int64_t stride, int64_t padding, int64_t dilation, bool ceil_mode,
                               bool count_include_pad);

}  // namespace tg::detail
