// The cpu backend's fused GRU step (formulas in gru.h): rows are
// split over the thread pool, and each row's loops over j vectorise (the
// gates of one row are three contiguous blocks of H). The arithmetic follows
// the composed ops of nn/recurrent/gru_cell.cpp's earlier form in the same order, so the
// forward values are the ones those ops gave.
#include "backends/cpu/cpu_loops.h"
#include "backends/cpu/cpu_math.h"
#include "core/types/dtype.h"
#include "kernels/gru_gates/gru_gates.h"

namespace tg::kernels {

namespace {
template <typename Fn> void visit_gru_float(DType dtype, Fn&& fn) {
  if (dtype == DType::f64) return fn.template operator()<double>();
  return fn.template operator()<float>();
}

void gates_cpu(Backend&, const GruGatesArgs& a) {
  const View &gi = a.gi, &gh = a.gh, &h = a.h, &out = a.out, &saved = a.saved;
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  visit_gru_float(h.dtype, [&]<typename T>() {
    cpu::parallel_ranges(batch, batch * hidden * 3, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const T* __restrict gi_row = gi.as<const T>() + b * gi.strides[0];
        const T* __restrict gh_row = gh.as<const T>() + b * gh.strides[0];
        const T* __restrict h_row = h.as<const T>() + b * h.strides[0];
        T* __restrict out_row = out.as<T>() + b * out.strides[0];
        T* __restrict s = saved.as<T>() + b * saved.strides[0];
#pragma omp simd
        for (int64_t j = 0; j < 2 * hidden; ++j) s[j] = cpu::sigmoid_any(T(gi_row[j] + gh_row[j]));  // r | z
#pragma omp simd
        for (int64_t j = 0; j < hidden; ++j) {
          const T n = cpu::tanh_any(T(gi_row[2 * hidden + j] + s[j] * gh_row[2 * hidden + j]));
          s[2 * hidden + j] = n;
          out_row[j] = n + s[hidden + j] * (h_row[j] - n);
        }
      }
    });
  });
}

void gates_backward_cpu(Backend&, const GruGatesBackwardArgs& a) {
  const View &saved = a.saved, &gh = a.gh, &h = a.h, &dout = a.dout, &dgi = a.dgi, &dgh = a.dgh, &dh = a.dh;
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  visit_gru_float(h.dtype, [&]<typename T>() {
    cpu::parallel_ranges(batch, batch * hidden * 6, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        // Operands never overlap (fresh outputs), so the loop may vectorise.
        const T* __restrict s = saved.as<const T>() + b * saved.strides[0];
        const T* __restrict r = s;
        const T* __restrict z = s + hidden;
        const T* __restrict n = s + 2 * hidden;
        const T* __restrict gh_n = gh.as<const T>() + b * gh.strides[0] + 2 * hidden;
        const T* __restrict h_row = h.as<const T>() + b * h.strides[0];
        const T* __restrict g = dout.as<const T>() + b * dout.strides[0];
        T* __restrict dgi_row = dgi.as<T>() + b * dgi.strides[0];
        T* __restrict dgh_row = dgh.as<T>() + b * dgh.strides[0];
        T* __restrict dh_row = dh.as<T>() + b * dh.strides[0];
#pragma omp simd
        for (int64_t j = 0; j < hidden; ++j) {
          const T a_n = g[j] * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
          const T a_z = g[j] * (h_row[j] - n[j]) * z[j] * (T(1) - z[j]);
          const T a_r = a_n * gh_n[j] * r[j] * (T(1) - r[j]);
          dh_row[j] = g[j] * z[j];
          dgi_row[j] = a_r, dgi_row[hidden + j] = a_z, dgi_row[2 * hidden + j] = a_n;
          dgh_row[j] = a_r, dgh_row[hidden + j] = a_z, dgh_row[2 * hidden + j] = a_n * r[j];
        }
      }
    });
  });
}

const RegisterKernel cpu_gates(gru_gates_table(), "cpu", &gates_cpu);
const RegisterKernel cpu_gates_backward(gru_gates_backward_table(), "cpu", &gates_backward_cpu);

}  // namespace

}  // namespace tg::kernels
