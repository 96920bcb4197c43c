// Top-k's argument check, table and reference body (topk_rows.h): each row
// sorted stably in top-k order, its first k columns kept.
#include "kernels/topk_rows/topk_rows.h"

#include <algorithm>
#include <vector>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"
#include "kernels/topk_rows/topk_order.h"

namespace tg::kernels {

namespace {

void check_topk(const TopkRowsArgs& a) {
  checks::rank("topk_rows", "x", a.x, 2);
  checks::rank("topk_rows", "indices", a.indices, 2);
  checks::floating("topk_rows", a.x);
  checks::dtype("topk_rows", "indices", a.indices, DType::i64);
  checks::contiguous("topk_rows", "indices", a.indices);
  if (a.indices.shape[0] != a.x.shape[0] || a.indices.shape[1] > a.x.shape[1])
    fail("topk_rows: indices {} for x {}: expected (R, k) with k <= n for x (R, n)", a.indices.shape.str(),
         a.x.shape.str());
}

void topk_reference(Backend&, const TopkRowsArgs& a) {
  const int64_t n = a.x.shape[1], k = a.indices.shape[1];
  visit_float(a.x.dtype, "topk_rows", [&]<typename T>() {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t r = 0; r < a.x.shape[0]; ++r) {
      for (int64_t c = 0; c < n; ++c) order[c] = c;
      std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
        return topk_ranks_before(element<T>(a.x, r, i), i, element<T>(a.x, r, j), j, a.largest);
      });
      for (int64_t j = 0; j < k; ++j) a.indices.as<int64_t>()[r * k + j] = order[j];
    }
  });
}

}  // namespace

KernelTable<TopkRowsArgs>& topk_rows_table() {
  static KernelTable<TopkRowsArgs> table("topk_rows", &check_topk, &topk_reference);
  return table;
}

}  // namespace tg::kernels
