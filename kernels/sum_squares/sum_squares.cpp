// The sum of squares' argument check, table and reference body (sum_squares.h).
#include "kernels/sum_squares/sum_squares.h"

#include "core/dispatch/kernel_checks.h"
#include "core/services/error.h"
#include "core/types/visit_dtype.h"

namespace tg::kernels {

namespace {

void check_sum_squares(const SumSquaresArgs& a) {
  checks::floating("sum_squares", a.x);
  checks::contiguous("sum_squares", "x", a.x);
  checks::dtype("sum_squares", "out", a.out, DType::f64);
  if (a.out.numel() != 1) fail("sum_squares: out must hold one element, got shape {}", a.out.shape.str());
}

void sum_squares_reference(Backend&, const SumSquaresArgs& a) {
  visit_float(a.x.dtype, "sum_squares", [&]<typename T>() {
    const T* const x = a.x.as<const T>();
    double sum = 0;
    for (int64_t i = 0; i < a.x.numel(); ++i) sum += double(x[i]) * double(x[i]);
    *a.out.as<double>() = sum;
  });
}

}  // namespace

KernelTable<SumSquaresArgs>& sum_squares_table() {
  static KernelTable<SumSquaresArgs> table("sum_squares", &check_sum_squares, &sum_squares_reference);
  return table;
}

}  // namespace tg::kernels
