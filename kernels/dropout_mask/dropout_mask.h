#pragma once
// Dropout's factors (ops/dropout.h), out contiguous float: element i is
// 1 / (1 − p) where random_bits::uniform(key, i) < 1 − p, else 0
// (core/dispatch/random_bits.h), the same values on every backend; p in [0, 1).
#include <cstdint>

#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct DropoutMaskArgs {
  View out;
  uint64_t key;
  double p;
};

KernelTable<DropoutMaskArgs>& dropout_mask_table();

inline void dropout_mask(Backend& backend, const DropoutMaskArgs& args) { dropout_mask_table().run(backend, args); }

}  // namespace tg::kernels
