// The cpu backend's top-k of each row (topk_rows.h): for small
// k (beam search's 2K) one pass keeping the best k in order, else a partial
// sort, O(n log k); rows split over the thread pool (each row writes only its
// own indices).
#include <algorithm>
#include <numeric>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/topk_rows/topk_order.h"
#include "kernels/topk_rows/topk_rows.h"

namespace tg::kernels {

namespace {

constexpr int64_t kInsertionLimit = 64;  // up to this k: a sorted list of the best so far; beyond: partial_sort

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
          for (int64_t c = 0; c < n; ++c) {
            if (static_cast<int64_t>(order.size()) == k) {
              if (!before(c, order.back())) continue;
              order.pop_back();
            }
            order.insert(std::upper_bound(order.begin(), order.end(), c, before), c);
          }
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
