// The cpu backend's fused Adam step (adam_element.h): the elements are
// split into chunks over the thread pool and each chunk is one vectorised
// loop reading p, g, m, v (and v̂) once and writing them back, where the
// composed kernels made ten passes and five temporaries. A float32
// parameter whose bfloat16 packings the backend keeps is written a chunk at
// a time, each chunk's part of the packings made as it is written
// (backends/cpu/kept_packing_refresh.h).
#include <algorithm>
#include <type_traits>

#include "backends/cpu/cpu_loops.h"
#include "backends/cpu/cpu_math.h"
#include "backends/cpu/kept_packing_refresh.h"
#include "core/services/error.h"
#include "kernels/adam_update/adam_update.h"
#include "kernels/adam_update/adam_element.h"

namespace tg::kernels {

namespace {

// Elements [begin, end). This file is compiled with -ffp-contract=off and
// -fno-math-errno (kernels/meson.build): no FMAs, and sqrt without its errno
// branch, so the loop vectorises.
template <bool amsgrad, typename T>
void adam_range(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                                  T* __restrict v_max, int64_t begin, int64_t end, const adam::Coefficients<T> c) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i)
    adam::element<amsgrad, cpu::CpuMath>(p[i], g[i], m[i], v[i], amsgrad ? v_max[i] : v[i], c);
}

// Values a chunk when the parameter's kept bfloat16 packings are packed again as it is written
// (kept_packing_refresh.h): 2 MB of it, read back from the caches by the packing.
constexpr int64_t kRepackChunk = int64_t{1} << 19;

template <bool amsgrad, typename T>
void adam_typed(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                const View* max_exp_avg_sq, int64_t n, const AdamStep& step) {
  const adam::Coefficients<T> c = adam::coefficients<T>(step);
  T* const p = param.as<T>();
  const T* const g = grad.as<const T>();
  T* const m = exp_avg.as<T>();
  T* const v = exp_avg_sq.as<T>();
  T* const v_max = amsgrad ? max_exp_avg_sq->as<T>() : nullptr;
  auto update = [&](int64_t first, int64_t last) {
    cpu::parallel_ranges(last - first, last - first, [&](int64_t begin, int64_t end) {
      adam_range<amsgrad>(p, g, m, v, v_max, first + begin, first + end, c);
    });
  };
  if constexpr (std::is_same_v<T, float>) {
    cpu::KeptPackingRefresh refresh(p, n, param.storage_id, param.storage_version);
    if (!refresh.empty()) {
      for (int64_t first = 0; first < n; first += kRepackChunk) {
        const int64_t last = std::min(n, first + kRepackChunk);
        update(first, last);
        refresh.written(last);
      }
      refresh.finish();
      return;
    }
  }
  update(0, n);
}

void adam_cpu(Backend&, const AdamArgs& a) {
  const View &param = a.param, &grad = a.grad, &exp_avg = a.exp_avg, &exp_avg_sq = a.exp_avg_sq;
  const View* max_exp_avg_sq = a.max_exp_avg_sq.data != nullptr ? &a.max_exp_avg_sq : nullptr;
  const int64_t n = param.numel();
  const AdamStep& step = a.step;
  auto run = [&]<typename T>() {
    if (max_exp_avg_sq != nullptr)
      adam_typed<true, T>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, step);
    else
      adam_typed<false, T>(param, grad, exp_avg, exp_avg_sq, nullptr, n, step);
  };
  switch (param.dtype) {
    case DType::f64: return run.template operator()<double>();
    case DType::f32: return run.template operator()<float>();
    default: fail("adam_update: expected float32 or float64, got {}", dtype_name(param.dtype));  // checked already
  }
}

const RegisterKernel cpu_adam(adam_update_table(), "cpu", &adam_cpu);

}  // namespace

}  // namespace tg::kernels
