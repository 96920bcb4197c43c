// The cpu backend's NLL kernels (nll.h): rows split over the thread pool.
#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/nll/nll.h"

namespace tg::kernels {

namespace {

void nll_cpu(Backend&, const NllArgs& a) {
  const int64_t rows = a.logp.shape[0], classes = a.logp.shape[1];
  visit_float(a.logp.dtype, "nll", [&]<typename T>() {
    const T* lp = a.logp.as<const T>();
    const int64_t work = a.smoothing != 0 ? rows * classes : rows;
    cpu::parallel_ranges(rows, work, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t t = element<int64_t>(a.target, i);
        const T* row = lp + i * classes;
        double l = 0;
        if (t != a.ignore_index) {
          l = -(1 - a.smoothing) * row[t];
          if (a.smoothing != 0) {  // skipped at ε = 0 so that a log 0 elsewhere stays harmless
            double sum = 0;
            for (int64_t c = 0; c < classes; ++c) sum += row[c];
            l -= a.smoothing / double(classes) * sum;
          }
        }
        element<T>(a.loss, i) = T(l);
      }
    });
  });
}

void nll_backward_cpu(Backend&, const NllBackwardArgs& a) {
  const int64_t rows = a.dlogp.shape[0], classes = a.dlogp.shape[1];
  visit_float(a.dlogp.dtype, "nll_backward", [&]<typename T>() {
    T* grad = a.dlogp.as<T>();
    const int64_t work = a.smoothing != 0 ? rows * classes : rows;
    cpu::parallel_ranges(rows, work, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t t = element<int64_t>(a.target, i);
        if (t == a.ignore_index) continue;
        const double g = element<const T>(a.dloss, i);
        T* row = grad + i * classes;
        if (a.smoothing != 0) {
          const T spread = T(-g * a.smoothing / double(classes));
          for (int64_t c = 0; c < classes; ++c) row[c] += spread;
        }
        row[t] += T(-g * (1 - a.smoothing));
      }
    });
  });
}

const RegisterKernel cpu_nll(nll_table(), "cpu", &nll_cpu);
const RegisterKernel cpu_nll_backward(nll_backward_table(), "cpu", &nll_backward_cpu);

}  // namespace

}  // namespace tg::kernels
