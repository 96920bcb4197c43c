// The cpu backend's layer normalisation (formulas in layer_norm.h): rows in
// parallel, each row's loops vectorised. dweight and dbias are summed over
// fixed blocks of rows, then the blocks in order, so the result does not
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/layer_norm/layer_norm.h"

namespace tg::kernels {

namespace {

constexpr int64_t kRowsPerBlock = 32;

void forward_cpu(Backend&, const LayerNormArgs& a) {
  const int64_t R = a.x.shape[0], D = a.x.shape[1];
  visit_float(a.x.dtype, "layer_norm", [&]<typename T>() {
    const T* __restrict w = a.weight.data != nullptr ? a.weight.as<const T>() : nullptr;
    const T* __restrict b = a.bias.data != nullptr ? a.bias.as<const T>() : nullptr;
    const int64_t ws = w != nullptr ? a.weight.strides[0] : 0, bs = b != nullptr ? a.bias.strides[0] : 0;
    cpu::parallel_ranges(R, R * D * 6, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* __restrict x = a.x.as<const T>() + r * a.x.strides[0];
        T* __restrict y = a.y.as<T>() + r * a.y.strides[0];
        T sum = 0, squares = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t d = 0; d < D; ++d) sum += x[d];
        const T mu = sum / static_cast<T>(D);
#pragma omp simd reduction(+ : squares)
        for (int64_t d = 0; d < D; ++d) squares += (x[d] - mu) * (x[d] - mu);
        const T rstd = T(1) / std::sqrt(squares / static_cast<T>(D) + static_cast<T>(a.eps));
        a.mean.as<T>()[r * a.mean.strides[0]] = mu;
        a.rstd.as<T>()[r * a.rstd.strides[0]] = rstd;
        if (w != nullptr && b != nullptr && ws == 1 && bs == 1) {
#pragma omp simd
          for (int64_t d = 0; d < D; ++d) y[d] = (x[d] - mu) * rstd * w[d] + b[d];
        } else {
          for (int64_t d = 0; d < D; ++d) {
            T v = (x[d] - mu) * rstd;
            if (w != nullptr) v *= w[d * ws];
            if (b != nullptr) v += b[d * bs];
            y[d] = v;
          }
        }
      }
    });
  });
}

void backward_cpu(Backend&, const LayerNormBackwardArgs& a) {
  const int64_t R = a.x.shape[0], D = a.x.shape[1];
  const bool want_dw = a.dweight.data != nullptr, want_db = a.dbias.data != nullptr;
  visit_float(a.x.dtype, "layer_norm_backward", [&]<typename T>() {
    const T* __restrict w = a.weight.data != nullptr ? a.weight.as<const T>() : nullptr;
    const int64_t ws = w != nullptr ? a.weight.strides[0] : 0;
    const int64_t blocks = (R + kRowsPerBlock - 1) / kRowsPerBlock;
    std::vector<T> dw_blocks(want_dw ? blocks * D : 0, T(0)), db_blocks(want_db ? blocks * D : 0, T(0));
    cpu::parallel_ranges(blocks, R * D * 10, [&](int64_t begin, int64_t end) {
      std::vector<T> g(static_cast<size_t>(D)), x_hat(static_cast<size_t>(D));
      for (int64_t block = begin; block < end; ++block) {
        T* __restrict dw_block = want_dw ? &dw_blocks[block * D] : nullptr;
        T* __restrict db_block = want_db ? &db_blocks[block * D] : nullptr;
        for (int64_t r = block * kRowsPerBlock; r < std::min(R, (block + 1) * kRowsPerBlock); ++r) {
          const T* __restrict x = a.x.as<const T>() + r * a.x.strides[0];
          const T* __restrict dy = a.dy.as<const T>() + r * a.dy.strides[0];
          const T mu = a.mean.as<const T>()[r * a.mean.strides[0]], rstd = a.rstd.as<const T>()[r * a.rstd.strides[0]];
          T sum_g = 0, sum_gx = 0;
          for (int64_t d = 0; d < D; ++d) {
            x_hat[d] = (x[d] - mu) * rstd;
            g[d] = w != nullptr ? dy[d] * w[d * ws] : dy[d];
            sum_g += g[d];
            sum_gx += g[d] * x_hat[d];
          }
          const T mean_g = sum_g / static_cast<T>(D), mean_gx = sum_gx / static_cast<T>(D);
          if (a.dx.data != nullptr) {
            T* __restrict dx = a.dx.as<T>() + r * a.dx.strides[0];
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) dx[d] = rstd * (g[d] - mean_g - x_hat[d] * mean_gx);
          }
          if (dw_block != nullptr)
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) dw_block[d] += dy[d] * x_hat[d];
          if (db_block != nullptr)
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) db_block[d] += dy[d];
        }
      }
    });
    for (int64_t block = 0; block < blocks; ++block)
      for (int64_t d = 0; d < D; ++d) {
        if (want_dw) a.dweight.as<T>()[d * a.dweight.strides[0]] += dw_blocks[block * D + d];
        if (want_db) a.dbias.as<T>()[d * a.dbias.strides[0]] += db_blocks[block * D + d];
      }
  });
}

const RegisterKernel cpu_forward(layer_norm_table(), "cpu", &forward_cpu);
const RegisterKernel cpu_backward(layer_norm_backward_table(), "cpu", &backward_cpu);

}  // namespace

}  // namespace tg::kernels
