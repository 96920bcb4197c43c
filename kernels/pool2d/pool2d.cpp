// 2-D pooling's argument checks, tables and reference bodies (pool2d.h):
// one output at a time, straight from the formulas, sums in double.
#include "kernels/pool2d/pool2d.h"

#include <cmath>
#include <limits>
#include <string_view>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

void check_axis(std::string_view op, const PoolAxis& axis, const char* what) {
  const size_t n = axis.first.size();
  if (axis.count.size() != n || axis.divisor.size() != n || axis.step < 1)
    fail("{}: the {} windows need first, count and divisor of one length and step >= 1, got {}, {}, {} and {}", op,
         what, n, axis.count.size(), axis.divisor.size(), axis.step);
  for (size_t o = 0; o < n; ++o)
    if (axis.count[o] < 1 || axis.divisor[o] < 1)
      fail("{}: {} window {} has count {} and divisor {}; both must be >= 1", op, what, o, axis.count[o],
           axis.divisor[o]);
}

void check_views(std::string_view op, const View& image, const View& pooled, const View& argmax, PoolMode mode,
                 const PoolAxis& rows, const PoolAxis& cols) {
  checks::rank(op, "x", image, 3);
  checks::floating(op, image);
  checks::contiguous(op, "x", image);
  check_axis(op, rows, "row");
  check_axis(op, cols, "column");
  const Shape out{image.shape[0], rows.outputs(), cols.outputs()};
  checks::shape(op, "y", pooled, out);
  checks::dtype(op, "y", pooled, image.dtype);
  checks::contiguous(op, "y", pooled);
  if (mode == PoolMode::max) {
    checks::shape(op, "argmax", argmax, out);
    checks::dtype(op, "argmax", argmax, DType::i64);
    checks::contiguous(op, "argmax", argmax);
  }
}

void check_forward(const Pool2dArgs& a) { check_views("pool2d", a.x, a.y, a.argmax, a.mode, a.rows, a.cols); }
void check_backward(const Pool2dBackwardArgs& a) {
  check_views("pool2d_backward", a.dx, a.dy, a.argmax, a.mode, a.rows, a.cols);
}

void forward_reference(Backend&, const Pool2dArgs& a) {
  const int64_t N = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2];
  visit_float(a.x.dtype, "pool2d", [&]<typename T>() {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < a.rows.outputs(); ++oh)
        for (int64_t ow = 0; ow < a.cols.outputs(); ++ow) {
          double sum = 0, best = 0;
          int64_t best_at = -1;
          for (int64_t i = 0; i < a.rows.count[oh]; ++i)
            for (int64_t j = 0; j < a.cols.count[ow]; ++j) {
              const int64_t h = a.rows.first[oh] + i * a.rows.step, w = a.cols.first[ow] + j * a.cols.step;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const double v = element<T>(a.x, n, h, w);
              sum += v;
              if (best_at < 0 || v > best || std::isnan(v)) best = v, best_at = h * W + w;
            }
          if (a.mode == PoolMode::max) {  // a window wholly in the padding: −∞, no position (PyTorch's value)
            element<T>(a.y, n, oh, ow) = best_at < 0 ? -std::numeric_limits<T>::infinity() : static_cast<T>(best);
            element<int64_t>(a.argmax, n, oh, ow) = best_at;
          } else {
            element<T>(a.y, n, oh, ow) = static_cast<T>(sum / (a.rows.divisor[oh] * a.cols.divisor[ow]));
          }
        }
  });
}

void backward_reference(Backend&, const Pool2dBackwardArgs& a) {
  const int64_t N = a.dx.shape[0], H = a.dx.shape[1], W = a.dx.shape[2];
  visit_float(a.dx.dtype, "pool2d_backward", [&]<typename T>() {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < a.rows.outputs(); ++oh)
        for (int64_t ow = 0; ow < a.cols.outputs(); ++ow) {
          const T g = element<T>(a.dy, n, oh, ow);
          if (a.mode == PoolMode::max) {
            const int64_t at = element<int64_t>(a.argmax, n, oh, ow);
            if (at >= 0) element<T>(a.dx, n, at / W, at % W) += g;
            continue;
          }
          const T share = static_cast<T>(g / static_cast<double>(a.rows.divisor[oh] * a.cols.divisor[ow]));
          for (int64_t i = 0; i < a.rows.count[oh]; ++i)
            for (int64_t j = 0; j < a.cols.count[ow]; ++j) {
              const int64_t h = a.rows.first[oh] + i * a.rows.step, w = a.cols.first[ow] + j * a.cols.step;
              if (h >= 0 && h < H && w >= 0 && w < W) element<T>(a.dx, n, h, w) += share;
            }
        }
  });
}

}  // namespace

KernelTable<Pool2dArgs>& pool2d_table() {
  static KernelTable<Pool2dArgs> table("pool2d", &check_forward, &forward_reference);
  return table;
}

KernelTable<Pool2dBackwardArgs>& pool2d_backward_table() {
  static KernelTable<Pool2dBackwardArgs> table("pool2d_backward", &check_backward, &backward_reference);
  return table;
}

}  // namespace tg::kernels
