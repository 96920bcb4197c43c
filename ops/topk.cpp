#include "ops/topk.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/services/profiler.h"
#include "kernels/topk_rows/topk_rows.h"
#include "ops/gather.h"
#include "ops/index_select.h"
#include "ops/reshape.h"

namespace tg {

TopK topk(const Tensor& x, int64_t k, int dim, bool largest) {
  const ProfileScope profile("topk");
  const int d = check_floating_axis(x, dim, "topk");
  const int64_t n = x.size(d);
  if (k < 0 || k > n) fail("topk: k = {} must be in 0..{} (dimension {} of x {})", k, n, d, x.shape().str());
  // Rows along dim, last, as a matrix (rows, n); the selection runs on x's device.
  const Tensor last = contiguous_values(detail::move_axis(x.detach(), d, x.ndim() - 1));
  const int64_t rows = n == 0 ? 0 : last.numel() / n;
  Shape moved = last.shape();
  moved[moved.size() - 1] = k;
  const Tensor table = reshape(last, {rows, n});
  const Tensor picked = compute::empty_like(table, Shape{rows, k}, DType::i64);  // (rows, k)
  kernels::topk_rows(backend_for(table.device()), {table.view(), largest, picked.view()});
  TopK result;
  result.indices = contiguous_values(detail::move_axis(reshape(picked, moved), x.ndim() - 1, d));
  result.values = gather(x, d, result.indices);
  return result;
}

}  // namespace tg
