// The cpu backend's 2-D pooling (formulas in pool2d.h): the (sample,
// channel) planes in parallel, each plane's windows in turn, through raw
// row-major offsets; each window's inside part found once per call, and the
// 2x2 stride-2 max pool without padding written out.
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/pool2d/pool2d.h"

namespace tg::kernels {

namespace {

// The inside part of each window along an axis of extent `size`: its first
// inside position and how many inside positions it has (step apart).
struct Inside {
  std::vector<int64_t> first, count;
};
Inside inside(const PoolAxis& axis, int64_t size) {
  Inside in;
  for (int64_t o = 0; o < axis.outputs(); ++o) {
    const int64_t first = axis.first[o], step = axis.step;
    int64_t k0 = 0, k1 = axis.count[o];
    while (k0 < k1 && first + k0 * step < 0) ++k0;
    while (k1 > k0 && first + (k1 - 1) * step >= size) --k1;
    in.first.push_back(first + k0 * step);
    in.count.push_back(k1 - k0);
  }
  return in;
}

// Whether every window of the axis is [2·o, 2·o + 2), inside: the 2x2 stride-2 pool without padding.
bool pairs(const Inside& in, int64_t step) {
  for (size_t o = 0; o < in.first.size(); ++o)
    if (in.first[o] != 2 * static_cast<int64_t>(o) || in.count[o] != 2) return false;
  return step == 1;
}

// The running maximum as PyTorch takes it: a later value wins when greater
// or NaN. Written as selects, not branches: on data, a branch here is a coin
// toss the processor mispredicts half the time.
template <typename T>
inline void take(T v, int64_t at, T& best, int64_t& best_at) {
  const bool wins = (v > best) | (v != v);
  best = wins ? v : best;
  best_at = wins ? at : best_at;
}

void forward_cpu(Backend&, const Pool2dArgs& a) {
  const int64_t N = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2];
  const int64_t OH = a.rows.outputs(), OW = a.cols.outputs();
  const Inside rows = inside(a.rows, H), cols = inside(a.cols, W);
  const int64_t rstep = a.rows.step, cstep = a.cols.step;
  const bool two_by_two = a.mode == PoolMode::max && pairs(rows, rstep) && pairs(cols, cstep);
  visit_float(a.x.dtype, "pool2d", [&]<typename T>() {
    cpu::parallel_ranges(N, N * H * W, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const T* x = a.x.as<const T>() + n * H * W;
        T* y = a.y.as<T>() + n * OH * OW;
        int64_t* arg = a.mode == PoolMode::max ? a.argmax.as<int64_t>() + n * OH * OW : nullptr;
        if (two_by_two) {  // the common case, vectorised: selects and integer arithmetic, no branches
          for (int64_t oh = 0; oh < OH; ++oh) {
            const T* __restrict r0 = x + 2 * oh * W;
            const T* __restrict r1 = r0 + W;
            T* __restrict yr = y + oh * OW;
            int64_t* __restrict ar = arg + oh * OW;
            const int64_t base = 2 * oh * W;
            bool nan = false;
#pragma omp simd reduction(| : nan)
            for (int64_t ow = 0; ow < OW; ++ow) {
              const T v0 = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
              const T top = v1 > v0 ? v1 : v0, bottom = v3 > v2 ? v3 : v2;
              const T m = bottom > top ? bottom : top;
              // the first of v0, v1, v2, v3 equal to m: offset 0, 1, W or W + 1
              const int64_t e0 = v0 == m, e1 = v1 == m, e2 = v2 == m;
              const int64_t f1 = (1 - e0) * e1, f2 = (1 - e0) * (1 - e1) * e2, f3 = (1 - e0) * (1 - e1) * (1 - e2);
              yr[ow] = m;
              ar[ow] = base + 2 * ow + f1 + f2 * W + f3 * (W + 1);
              nan |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3);
            }
            if (nan)  // rare: redo the row with PyTorch's rule (the last NaN wins)
              for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t at = base + 2 * ow;
                T best = r0[2 * ow];
                int64_t best_at = at;
                take(r0[2 * ow + 1], at + 1, best, best_at);
                take(r1[2 * ow], at + W, best, best_at);
                take(r1[2 * ow + 1], at + W + 1, best, best_at);
                yr[ow] = best;
                ar[ow] = best_at;
              }
          }
          continue;
        }
        for (int64_t oh = 0; oh < OH; ++oh) {
          for (int64_t ow = 0; ow < OW; ++ow) {
            if (a.mode == PoolMode::max) {
              T best = -std::numeric_limits<T>::infinity();
              const bool empty = rows.count[oh] == 0 || cols.count[ow] == 0;  // wholly in the padding: −∞, argmax −1
              int64_t best_at = empty ? -1 : rows.first[oh] * W + cols.first[ow];
              for (int64_t i = 0; i < rows.count[oh]; ++i) {
                const int64_t at = (rows.first[oh] + i * rstep) * W + cols.first[ow];
                for (int64_t j = 0; j < cols.count[ow]; ++j) take(x[at + j * cstep], at + j * cstep, best, best_at);
              }
              y[oh * OW + ow] = best;
              arg[oh * OW + ow] = best_at;
            } else {
              T sum = 0;
              for (int64_t i = 0; i < rows.count[oh]; ++i) {
                const int64_t at = (rows.first[oh] + i * rstep) * W + cols.first[ow];
                for (int64_t j = 0; j < cols.count[ow]; ++j) sum += x[at + j * cstep];
              }
              y[oh * OW + ow] = sum / static_cast<T>(a.rows.divisor[oh] * a.cols.divisor[ow]);
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
  const Inside rows = inside(a.rows, H), cols = inside(a.cols, W);
  const int64_t rstep = a.rows.step, cstep = a.cols.step;
  visit_float(a.dx.dtype, "pool2d_backward", [&]<typename T>() {
    cpu::parallel_ranges(N, N * H * W, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        T* dx = a.dx.as<T>() + n * H * W;
        const T* dy = a.dy.as<const T>() + n * OH * OW;
        if (a.mode == PoolMode::max) {
          const int64_t* arg = a.argmax.as<const int64_t>() + n * OH * OW;
          for (int64_t o = 0; o < OH * OW; ++o)
            if (arg[o] >= 0) dx[arg[o]] += dy[o];
          continue;
        }
        for (int64_t oh = 0; oh < OH; ++oh) {
          for (int64_t ow = 0; ow < OW; ++ow) {
            const T share = dy[oh * OW + ow] / static_cast<T>(a.rows.divisor[oh] * a.cols.divisor[ow]);
            for (int64_t i = 0; i < rows.count[oh]; ++i) {
              const int64_t at = (rows.first[oh] + i * rstep) * W + cols.first[ow];
              for (int64_t j = 0; j < cols.count[ow]; ++j) dx[at + j * cstep] += share;
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
