// Dropout's argument check, table and reference body (dropout_mask.h).
#include "kernels/dropout_mask/dropout_mask.h"

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"
#include "core/dispatch/random_bits.h"

namespace tg::kernels {

namespace {

void check_mask(const DropoutMaskArgs& a) {
  checks::floating("dropout_mask", a.out);
  checks::contiguous("dropout_mask", "out", a.out);
  if (!(a.p >= 0 && a.p < 1)) fail("dropout_mask: p must be in [0, 1), got {}", a.p);
}

void mask_reference(Backend&, const DropoutMaskArgs& a) {
  visit_float(a.out.dtype, "dropout_mask", [&]<typename T>() {
    T* const values = a.out.as<T>();
    for (int64_t i = 0; i < a.out.numel(); ++i)
      values[i] = random_bits::dropout_scale(a.key, i, 1 - a.p, T(1 / (1 - a.p)));
  });
}

}  // namespace

KernelTable<DropoutMaskArgs>& dropout_mask_table() {
  static KernelTable<DropoutMaskArgs> table("dropout_mask", &check_mask, &mask_reference);
  return table;
}

}  // namespace tg::kernels
