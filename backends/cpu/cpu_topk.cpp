// The cpu backend's top-k of each row (core/backend.h's topk_rows): a partial
// sort of the row's columns, O(n log k), rows split over the thread pool
// (each row writes only its own indices).
#include <algorithm>
#include <numeric>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loops.h"
#include "core/dispatch.h"
#include "core/kernel_checks.h"
#include "core/topk_order.h"

namespace tg {

void CpuBackend::topk_rows(const View& x, bool largest, const View& indices) {
  checks::topk_rows_args(x, indices);
  const int64_t rows = x.shape[0], n = x.shape[1], k = indices.shape[1];
  if (k == 0) return;
  visit_float(x.dtype, "topk_rows", [&]<typename T>() {
    cpu::parallel_ranges(rows, rows * n, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> order(static_cast<size_t>(n));
      for (int64_t r = begin; r < end; ++r) {
        const T* row = x.as<const T>() + r * x.strides[0];
        const int64_t step = x.strides[1];
        std::iota(order.begin(), order.end(), int64_t{0});
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
          return topk_ranks_before(row[a * step], a, row[b * step], b, largest);
        });
        std::copy_n(order.begin(), k, indices.as<int64_t>() + r * k);
      }
    });
  });
}

}  // namespace tg
