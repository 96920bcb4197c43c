// The cpu backend's im2col and col2im (formulas in conv2d.h): the (sample,
// channel) planes in parallel; within a plane one output row at a time, a
// unit-stride row copied (or added) as a block between its zero edges.
#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/conv2d/conv2d.h"

namespace tg::kernels {

namespace {

// The output columns ow whose input column ow·s − p + offset lies in [0, W): [first, last).
struct Inside {
  int64_t first, last;
};
Inside inside_columns(int64_t offset, int64_t s, int64_t p, int64_t W, int64_t OW) {
  // ow·s − p + offset >= 0  and  ow·s − p + offset <= W − 1
  const int64_t lo = p - offset;  // ow·s >= lo
  const int64_t first = lo <= 0 ? 0 : (lo + s - 1) / s;
  const int64_t hi = W - 1 + p - offset;  // ow·s <= hi
  const int64_t last = hi < 0 ? 0 : hi / s + 1;
  return {std::min(first, OW), std::clamp(last, std::min(first, OW), OW)};
}

void im2col_cpu(Backend&, const Im2colArgs& a) {
  const Conv2dGeometry g = a.g;
  const int64_t B = a.x.shape[0], C = a.x.shape[1], H = a.x.shape[2], W = a.x.shape[3];
  const int64_t L = g.oh * g.ow, KK = g.kh * g.kw;
  visit_float(a.x.dtype, "im2col", [&]<typename T>() {
    const T* x = a.x.as<const T>();
    T* cols = a.cols.as<T>();
    cpu::parallel_ranges(B * C, B * C * KK * L, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const T* src = x + plane * H * W;
        T* dst = cols + plane * KK * L;  // plane = b·C + c: rows (c·KH + i)·KW + j of sample b
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) {
            T* row = dst + (i * g.kw + j) * L;
            const Inside in = inside_columns(j * g.dw, g.sw, g.pw, W, g.ow);
            for (int64_t oh = 0; oh < g.oh; ++oh) {
              T* out = row + oh * g.ow;
              const int64_t h = oh * g.sh - g.ph + i * g.dh;
              if (h < 0 || h >= H) {
                std::fill_n(out, g.ow, T(0));
                continue;
              }
              const int64_t base = h * W - g.pw + j * g.dw;  // src[base + ow·sw] is x[h, ow·sw − pw + j·dw]
              std::fill_n(out, in.first, T(0));
              if (g.sw == 1)
                std::memcpy(out + in.first, src + base + in.first, sizeof(T) * (in.last - in.first));
              else
                for (int64_t ow = in.first; ow < in.last; ++ow) out[ow] = src[base + ow * g.sw];
              std::fill(out + in.last, out + g.ow, T(0));
            }
          }
      }
    });
  });
}

void col2im_cpu(Backend&, const Col2imArgs& a) {
  const Conv2dGeometry g = a.g;
  const int64_t B = a.dx.shape[0], C = a.dx.shape[1], H = a.dx.shape[2], W = a.dx.shape[3];
  const int64_t L = g.oh * g.ow, KK = g.kh * g.kw;
  visit_float(a.dx.dtype, "col2im", [&]<typename T>() {
    T* dx = a.dx.as<T>();
    const T* cols = a.cols.as<const T>();
    cpu::parallel_ranges(B * C, B * C * KK * L, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        T* dst = dx + plane * H * W;
        const T* src = cols + plane * KK * L;
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) {
            const T* row = src + (i * g.kw + j) * L;
            const Inside in = inside_columns(j * g.dw, g.sw, g.pw, W, g.ow);
            for (int64_t oh = 0; oh < g.oh; ++oh) {
              const int64_t h = oh * g.sh - g.ph + i * g.dh;
              if (h < 0 || h >= H) continue;
              const T* col = row + oh * g.ow;
              const int64_t base = h * W - g.pw + j * g.dw;  // dst[base + ow·sw] is dx[h, ow·sw − pw + j·dw]
              if (g.sw == 1) {
#pragma omp simd
                for (int64_t ow = in.first; ow < in.last; ++ow) dst[base + ow] += col[ow];
              } else {
                for (int64_t ow = in.first; ow < in.last; ++ow) dst[base + ow * g.sw] += col[ow];
              }
            }
          }
      }
    });
  });
}

const RegisterKernel cpu_im2col(im2col_table(), "cpu", &im2col_cpu);
const RegisterKernel cpu_col2im(col2im_table(), "cpu", &col2im_cpu);

}  // namespace

}  // namespace tg::kernels
