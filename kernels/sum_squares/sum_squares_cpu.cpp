// The cpu backend's sum of squares (sum_squares.h): x in blocks of
// kBlock elements, each block's sum a vectorised loop in double, spread
// over the thread pool; then the blocks' sums added in order. The blocks
// do not depend on the thread count, so neither do the bits.
#include <algorithm>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/sum_squares/sum_squares.h"

namespace tg::kernels {

namespace {

constexpr int64_t kBlock = 16384;  // 64 KiB of float32: an L2-sized share of a parameter

// One block's Σ x² (inlined into the one body cpu::parallel_ranges runs on either path: the same bits).
template <typename T>
double block_sum(const T* x, int64_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  return sum;
}

void sum_squares_cpu(Backend&, const SumSquaresArgs& a) {
  const int64_t n = a.x.numel(), blocks = (n + kBlock - 1) / kBlock;
  visit_float(a.x.dtype, "sum_squares", [&]<typename T>() {
    const T* const x = a.x.as<const T>();
    std::vector<double> block_sums(static_cast<size_t>(blocks));
    cpu::parallel_ranges(blocks, n, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        block_sums[static_cast<size_t>(b)] = block_sum(x + b * kBlock, std::min(kBlock, n - b * kBlock));
    });
    double sum = 0;
    for (const double s : block_sums) sum += s;
    *a.out.as<double>() = sum;
  });
}

const RegisterKernel cpu_sum_squares(sum_squares_table(), "cpu", &sum_squares_cpu);

}  // namespace

}  // namespace tg::kernels
