// The cpu backend's top-k of each row (topk_rows.h): for k up to 64 one pass
// keeping the best k in order (a contiguous float row 64 columns at a time
// past them), else a partial sort, O(n log k); rows split over the thread pool
// (each row writes only its own indices).
#include <algorithm>
#include <numeric>
#include <type_traits>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "core/types/run_extremes.h"
#include "core/types/visit_dtype.h"
#include "kernels/topk_rows/topk_order.h"
#include "kernels/topk_rows/topk_rows.h"

namespace tg::kernels {

namespace {

constexpr int64_t kInsertionLimit = 64;  // up to this k: a sorted list of the best so far; beyond: partial_sort

// Whether row[0:n] may hold a value v with !(v <= worst) (largest) or !(v >= worst) (smallest): a NaN in
// it, or its largest (smallest) value so.
template <typename T>
bool may_enter(const T* row, int64_t n, bool largest, T worst) {
  if (largest) {
    const RunExtreme<T> m = run_max(row, n);
    return m.nans > 0 || !(m.value <= worst);
  }
  const RunExtreme<T> m = run_min(row, n);
  return m.nans > 0 || !(m.value >= worst);
}

// Columns [c, n) of a full list, kChunk at a time: a chunk goes to `offer` (the exact comparison) only if
// one of its values could rank before the k-th best. A later column ranks before it only by value or NaN,
// never by a tie (its index is larger), and !(v <= worst) (largest) or !(v >= worst) (smallest) holds for
// every such value: larger (smaller), or NaN on either side. Most of a row much longer than k ranks below
// the k-th, so most chunks are passed over whole. Returns where the whole chunks end.
template <typename T, typename Offer>
int64_t offer_chunks(const T* row, int64_t c, int64_t n, bool largest, const std::vector<int64_t>& order,
                     const Offer& offer) {
  constexpr int64_t kChunk = 64;
  for (; c + kChunk <= n; c += kChunk)
    if (may_enter(row + c, kChunk, largest, row[order.back()]))
      for (int64_t j = 0; j < kChunk; ++j) offer(c + j);
  return c;
}

void topk_cpu(Backend&, const TopkRowsArgs& a) {
  const View &x = a.x, &indices = a.indices;
  const bool largest = a.largest;
  const int64_t rows = x.shape[0], n = x.shape[1], k = indices.shape[1];
  if (k == 0) return;
  visit_float(x.dtype, "topk_rows", [&]<typename T>() {
    cpu::parallel_ranges(rows, rows * n, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> order;
      for (int64_t r = begin; r < end; ++r) {
        const T* row = x.as<const T>() + r * x.strides[0];
        const int64_t step = x.strides[1];
        auto before = [&](int64_t a, int64_t b) { return topk_ranks_before(row[a * step], a, row[b * step], b, largest); };
        if (k <= kInsertionLimit) {
          // The best k so far, in order: most columns lose to the k-th in one comparison.
          order.clear();
          auto offer = [&](int64_t c) {
            if (static_cast<int64_t>(order.size()) == k) {
              if (!before(c, order.back())) return;
              order.pop_back();
            }
            order.insert(std::upper_bound(order.begin(), order.end(), c, before), c);
          };
          int64_t c = 0;
          for (; c < n && static_cast<int64_t>(order.size()) < k; ++c) offer(c);
          if constexpr (std::is_floating_point_v<T>)
            if (step == 1) c = offer_chunks(row, c, n, largest, order, offer);
          for (; c < n; ++c) offer(c);
        } else {
          order.resize(static_cast<size_t>(n));
          std::iota(order.begin(), order.end(), int64_t{0});
          std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        }
        std::copy_n(order.begin(), k, indices.as<int64_t>() + r * k);
      }
    });
  });
}

const RegisterKernel cpu_topk(topk_rows_table(), "cpu", &topk_cpu);

}  // namespace

}  // namespace tg::kernels
