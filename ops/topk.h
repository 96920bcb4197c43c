#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"
#include "kernels/topk_rows/topk_order.h"  // topk_ranks_before: the order, for code that ranks as topk does

namespace tg {

struct TopK {
  Tensor values;   // x's shape with k along dim
  Tensor indices;  // int64, the same shape: where each value sits along dim
};

// The k largest (or smallest) entries along `dim`, as torch.topk, in order
// (largest first, or smallest first); ties keep the lower index first, and NaN
// counts as the largest value. values = gather(x, dim, indices), so
//   dx[indices] += dy   (indices carry no gradient)
// The selection runs on x's device (a backend kernel, core/dispatch/backend.h's topk_rows).
TopK topk(const Tensor& x, int64_t k, int dim = -1, bool largest = true);

}  // namespace tg
