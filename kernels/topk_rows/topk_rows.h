#pragma once
// Top-k of each row (tg::topk, beam search): indices[r, j] = the column of
// row r's (j+1)-th entry in topk_order.h's order (largest first, or smallest
// first; NaN largest; ties: lower column): x (R, n) float, any strides;
// indices (R, k) int64 contiguous, k <= n.
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct TopkRowsArgs {
  View x;
  bool largest;
  View indices;
};

KernelTable<TopkRowsArgs>& topk_rows_table();

inline void topk_rows(Backend& backend, const TopkRowsArgs& args) { topk_rows_table().run(backend, args); }

}  // namespace tg::kernels
