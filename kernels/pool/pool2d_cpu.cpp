// The cpu backend's 2-D pooling (formulas in pool2d.h): the (sample,
// channel) planes in parallel, each plane's windows in turn, through raw
// row-major offsets.
#include <cmath>
#include <limits>

#include "backends/cpu/cpu_loops.h"
#include "core/dispatch.h"
#include "kernels/pool/pool2d.h"

namespace tg::kernels {

namespace {

// The inside part of window o along an axis of extent `size`: k in [k0, k1).
struct Taps {
  int64_t k0, k1;
};
Taps inside(const PoolAxis& axis, int64_t o, int64_t size) {
  const int64_t first = axis.first[o], step = axis.step;
  int64_t k0 = 0, k1 = axis.count[o];
  while (k0 < k1 && first + k0 * step < 0) ++k0;
  while (k1 > k0 && first + (k1 - 1) * step >= size) --k1;
  return {k0, k1};
}

void forward_cpu(Backend&, const Pool2dArgs& a) {
  const int64_t N = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2];
  const int64_t OH = a.rows.outputs(), OW = a.cols.outputs();
  const PoolAxis &rows = a.rows, &cols = a.cols;
  visit_float(a.x.dtype, "pool2d", [&]<typename T>() {
    cpu::parallel_ranges(N, N * H * W, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const T* x = a.x.as<const T>() + n * H * W;
        T* y = a.y.as<T>() + n * OH * OW;
        int64_t* arg = a.mode == PoolMode::max ? a.argmax.as<int64_t>() + n * OH * OW : nullptr;
        for (int64_t oh = 0; oh < OH; ++oh) {
          const Taps r = inside(rows, oh, H);
          for (int64_t ow = 0; ow < OW; ++ow) {
            const Taps c = inside(cols, ow, W);
            if (a.mode == PoolMode::max) {
              T best = -std::numeric_limits<T>::infinity();
              int64_t best_at = (rows.first[oh] + r.k0 * rows.step) * W + cols.first[ow] + c.k0 * cols.step;
              for (int64_t i = r.k0; i < r.k1; ++i) {
                const int64_t at = (rows.first[oh] + i * rows.step) * W + cols.first[ow];
                for (int64_t j = c.k0; j < c.k1; ++j) {
                  const T v = x[at + j * cols.step];
                  if (v > best || std::isnan(v)) best = v, best_at = at + j * cols.step;
                }
              }
              y[oh * OW + ow] = best;
              arg[oh * OW + ow] = best_at;
            } else {
              T sum = 0;
              for (int64_t i = r.k0; i < r.k1; ++i) {
                const int64_t at = (rows.first[oh] + i * rows.step) * W + cols.first[ow];
                for (int64_t j = c.k0; j < c.k1; ++j) sum += x[at + j * cols.step];
              }
              y[oh * OW + ow] = sum / static_cast<T>(rows.divisor[oh] * cols.divisor[ow]);
            }
          }
        }
      }
    });
  });
}

void backward_cpu(Backend&, const Pool2dBackwardArgs& a) {
  const int64_t N = a.dx.shape[0], H = a.dx.shape[1], W = a.dx.shape[2];
  const int64_t OH = a.rows.outputs(), OW = a.cols.outputs();
  const PoolAxis &rows = a.rows, &cols = a.cols;
  visit_float(a.dx.dtype, "pool2d_backward", [&]<typename T>() {
    cpu::parallel_ranges(N, N * H * W, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        T* dx = a.dx.as<T>() + n * H * W;
        const T* dy = a.dy.as<const T>() + n * OH * OW;
        if (a.mode == PoolMode::max) {
          const int64_t* arg = a.argmax.as<const int64_t>() + n * OH * OW;
          for (int64_t o = 0; o < OH * OW; ++o) dx[arg[o]] += dy[o];
          continue;
        }
        for (int64_t oh = 0; oh < OH; ++oh) {
          const Taps r = inside(rows, oh, H);
          for (int64_t ow = 0; ow < OW; ++ow) {
            const Taps c = inside(cols, ow, W);
            const T share = dy[oh * OW + ow] / static_cast<T>(rows.divisor[oh] * cols.divisor[ow]);
            for (int64_t i = r.k0; i < r.k1; ++i) {
              const int64_t at = (rows.first[oh] + i * rows.step) * W + cols.first[ow];
              for (int64_t j = c.k0; j < c.k1; ++j) dx[at + j * cols.step] += share;
            }
          }
        }
      }
    });
  });
}

const RegisterKernel cpu_forward(pool2d_table(), "cpu", &forward_cpu);
const RegisterKernel cpu_backward(pool2d_backward_table(), "cpu", &backward_cpu);

}  // namespace

}  // namespace tg::kernels
