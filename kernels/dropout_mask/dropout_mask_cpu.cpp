// The cpu backend's dropout factors (dropout_mask.h): elements split over
// the thread pool; each is a pure function of (key, i), so any split agrees.
#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "core/dispatch/random_bits.h"
#include "kernels/dropout_mask/dropout_mask.h"

namespace tg::kernels {

namespace {

void mask_cpu(Backend&, const DropoutMaskArgs& a) {
  const int64_t n = a.out.numel();
  visit_float(a.out.dtype, "dropout_mask", [&]<typename T>() {
    T* const values = a.out.as<T>();
    const double keep = 1 - a.p;
    const T scale = T(1 / keep);
    cpu::parallel_ranges(n, n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) values[i] = random_bits::dropout_scale(a.key, i, keep, scale);
    });
  });
}

const RegisterKernel cpu_mask(dropout_mask_table(), "cpu", &mask_cpu);

}  // namespace

}  // namespace tg::kernels
