// The cpu backend's batch normalisation (formulas in batch_norm.h): the
// channels in parallel, each channel's B rows of L in turn, sums in double
// so that float32 statistics over large batches keep their digits.
#include <cmath>

#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/batch_norm/batch_norm.h"

namespace tg::kernels {

namespace {

template <typename T>
T optional_at(const View& v, int64_t c, T absent) {
  return v.data != nullptr ? v.as<const T>()[c * v.strides[0]] : absent;
}

void forward_cpu(Backend&, const BatchNormArgs& a) {
  const int64_t B = a.x.shape[0], C = a.x.shape[1], L = a.x.shape[2];
  const double n = static_cast<double>(B * L);
  visit_float(a.x.dtype, "batch_norm", [&]<typename T>() {
    cpu::parallel_ranges(C, B * C * L * 3, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        double mu = 0, var = 0;
        if (a.training) {
          for (int64_t b = 0; b < B; ++b) {
            const T* __restrict x = a.x.as<const T>() + (b * C + c) * L;
            double s = 0;
#pragma omp simd reduction(+ : s)
            for (int64_t l = 0; l < L; ++l) s += x[l];
            mu += s;
          }
          mu /= n;
          for (int64_t b = 0; b < B; ++b) {
            const T* __restrict x = a.x.as<const T>() + (b * C + c) * L;
            double s = 0;
#pragma omp simd reduction(+ : s)
            for (int64_t l = 0; l < L; ++l) s += (x[l] - mu) * (x[l] - mu);
            var += s;
          }
          var /= n;
          if (a.running_mean.data != nullptr) {
            T& rm = a.running_mean.as<T>()[c * a.running_mean.strides[0]];
            T& rv = a.running_var.as<T>()[c * a.running_var.strides[0]];
            rm = static_cast<T>((1 - a.momentum) * rm + a.momentum * mu);
            rv = static_cast<T>((1 - a.momentum) * rv + a.momentum * var * n / (n - 1));
          }
        } else {
          mu = a.running_mean.as<const T>()[c * a.running_mean.strides[0]];
          var = a.running_var.as<const T>()[c * a.running_var.strides[0]];
        }
        const double rstd = 1.0 / std::sqrt(var + a.eps);
        a.mean.as<T>()[c * a.mean.strides[0]] = static_cast<T>(mu);
        a.rstd.as<T>()[c * a.rstd.strides[0]] = static_cast<T>(rstd);
        // y = (x − μ)·rstd·w + b, as x·scale + shift
        const double w = optional_at<T>(a.weight, c, T(1));
        const T scale = static_cast<T>(rstd * w);
        const T shift = static_cast<T>(optional_at<T>(a.bias, c, T(0)) - mu * rstd * w);
        for (int64_t b = 0; b < B; ++b) {
          const T* __restrict x = a.x.as<const T>() + (b * C + c) * L;
          T* __restrict y = a.y.as<T>() + (b * C + c) * L;
#pragma omp simd
          for (int64_t l = 0; l < L; ++l) y[l] = x[l] * scale + shift;
        }
      }
    });
  });
}

void backward_cpu(Backend&, const BatchNormBackwardArgs& a) {
  const int64_t B = a.x.shape[0], C = a.x.shape[1], L = a.x.shape[2];
  const double n = static_cast<double>(B * L);
  visit_float(a.x.dtype, "batch_norm_backward", [&]<typename T>() {
    cpu::parallel_ranges(C, B * C * L * 4, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const T mu = a.mean.as<const T>()[c * a.mean.strides[0]];
        const T rstd = a.rstd.as<const T>()[c * a.rstd.strides[0]];
        const double w = optional_at<T>(a.weight, c, T(1));
        double sum_dy = 0, sum_dy_xc = 0;  // Σ dy, Σ dy·(x − μ)
        for (int64_t b = 0; b < B; ++b) {
          const T* __restrict x = a.x.as<const T>() + (b * C + c) * L;
          const T* __restrict dy = a.dy.as<const T>() + (b * C + c) * L;
          double s = 0, sx = 0;
#pragma omp simd reduction(+ : s, sx)
          for (int64_t l = 0; l < L; ++l) {
            s += dy[l];
            sx += dy[l] * (x[l] - mu);
          }
          sum_dy += s;
          sum_dy_xc += sx;
        }
        const double sum_dy_xhat = sum_dy_xc * rstd;
        if (a.dweight.data != nullptr) a.dweight.as<T>()[c * a.dweight.strides[0]] += static_cast<T>(sum_dy_xhat);
        if (a.dbias.data != nullptr) a.dbias.as<T>()[c * a.dbias.strides[0]] += static_cast<T>(sum_dy);
        if (a.dx.data == nullptr) continue;
        // dx += k·dy − k·Σdy/n − k·x̂·Σ(dy x̂)/n with k = w·rstd, x̂ = (x − μ)·rstd:
        // dx += k·dy + (x − μ)·slope + offset
        const T k = static_cast<T>(w * rstd);
        const T slope = a.training ? static_cast<T>(-w * rstd * rstd * sum_dy_xhat / n) : T(0);
        const T offset = a.training ? static_cast<T>(-w * rstd * sum_dy / n) : T(0);
        for (int64_t b = 0; b < B; ++b) {
          const T* __restrict x = a.x.as<const T>() + (b * C + c) * L;
          const T* __restrict dy = a.dy.as<const T>() + (b * C + c) * L;
          T* __restrict dx = a.dx.as<T>() + (b * C + c) * L;
#pragma omp simd
          for (int64_t l = 0; l < L; ++l) dx[l] += k * dy[l] + (x[l] - mu) * slope + offset;
        }
      }
    });
  });
}

const RegisterKernel cpu_forward(batch_norm_table(), "cpu", &forward_cpu);
const RegisterKernel cpu_backward(batch_norm_backward_table(), "cpu", &backward_cpu);

}  // namespace

}  // namespace tg::kernels
