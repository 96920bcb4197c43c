#pragma once
// 2-D pooling over windows given per output index along each axis
// (ops/max_pool2d.h, ops/avg_pool2d.h, ops/adaptive_avg_pool2d.h): output
// row oh reads input rows first[oh] + k·step for k < count[oh] that lie in
// [0, H) (the others are padding), the same for columns; divisor[oh] ·
// divisor[ow] is what an average divides by.
//
//   x (N, H, W), y (N, OH, OW), contiguous (N = batch · channels)
//   max: y = max over the window's inside positions (a NaN wins, the last one, as in PyTorch),
//        argmax[n, oh, ow] = h·W + w of the maximum (the first in row-major order);
//        dx[n, argmax] += dy. A window with no inside position (dilation can step over
//        the whole input) gives −∞, as PyTorch, and argmax −1: no gradient.
//   avg: y = Σ window / (divisor_r[oh] · divisor_c[ow]);   dx[n, h, w] += dy / divisor, for each window holding (h, w)
#include <cstdint>
#include <vector>

#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

enum class PoolMode { max, avg };

// One axis of the windows: output index o reads first[o] + k·step, k < count[o].
struct PoolAxis {
  std::vector<int64_t> first, count, divisor;
  int64_t step = 1;
  int64_t outputs() const { return static_cast<int64_t>(first.size()); }
};

struct Pool2dArgs {
  View x;       // (N, H, W)
  View y;       // (N, OH, OW), written
  View argmax;  // int64 (N, OH, OW), written for max; data null for avg
  PoolMode mode = PoolMode::max;
  PoolAxis rows, cols;
};
struct Pool2dBackwardArgs {
  View dy;      // (N, OH, OW)
  View argmax;  // int64 (N, OH, OW) for max; data null for avg
  View dx;      // (N, H, W), accumulated into
  PoolMode mode = PoolMode::max;
  PoolAxis rows, cols;
};

KernelTable<Pool2dArgs>& pool2d_table();
KernelTable<Pool2dBackwardArgs>& pool2d_backward_table();

inline void pool2d(Backend& backend, const Pool2dArgs& args) { pool2d_table().run(backend, args); }
inline void pool2d_backward(Backend& backend, const Pool2dBackwardArgs& args) {
  pool2d_backward_table().run(backend, args);
}

}  // namespace tg::kernels
