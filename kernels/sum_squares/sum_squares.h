#pragma once
// The sum of squares of a contiguous float tensor (gradient-norm clipping,
// optim/clip_grad.cpp): out, one float64 element, = Σᵢ xᵢ², each square
// and the sum in double. One pass over x instead of a squared copy and a
// reduction.
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct SumSquaresArgs {
  View x;    // contiguous float32 or float64, any shape
  View out;  // one float64 element
};

KernelTable<SumSquaresArgs>& sum_squares_table();

inline void sum_squares(Backend& backend, const SumSquaresArgs& args) { sum_squares_table().run(backend, args); }

}  // namespace tg::kernels
