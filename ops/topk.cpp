#include "ops/topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/profiler.h"
#include "ops/gather.h"
#include "ops/index_select.h"

namespace tg {

TopK topk(const Tensor& x, int64_t k, int dim, bool largest) {
  const ProfileScope profile("topk");
  const int d = check_floating_axis(x, dim, "topk");
  const int64_t n = x.size(d);
  if (k < 0 || k > n) fail("topk: k = {} must be in 0..{} (dimension {} of x {})", k, n, d, x.shape().str());
  // Rows along dim, last: (rows, n) on the host.
  const Tensor last = detail::move_axis(x.detach(), d, x.ndim() - 1);
  const std::vector<double> values = last.to_vector<double>();
  const int64_t rows = n == 0 ? 0 : static_cast<int64_t>(values.size()) / n;
  // a before b: larger (or smaller) first, NaN largest, the lower index on ties.
  auto before = [&](const double* row, int64_t a, int64_t b) {
    const double va = row[a], vb = row[b];
    if (std::isnan(va) || std::isnan(vb)) return std::isnan(va) != std::isnan(vb) ? (std::isnan(va) == largest) : a < b;
    if (va != vb) return largest ? va > vb : va < vb;
    return a < b;
  };
  std::vector<int64_t> picked(static_cast<size_t>(rows * k));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = values.data() + r * n;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return before(row, a, b); });
    std::copy(order.begin(), order.begin() + k, picked.begin() + r * k);
  }
  Shape moved = last.shape();
  moved[moved.size() - 1] = k;
  const Tensor indices_last = from_vector(picked, moved, {DType::i64, x.device()});
  TopK result;
  result.indices = detail::move_axis(indices_last, x.ndim() - 1, d).contiguous();
  result.values = gather(x, d, result.indices);
  return result;
}

}  // namespace tg
