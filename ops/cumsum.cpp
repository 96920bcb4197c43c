#include "ops/cumsum.h"

#include <algorithm>

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/scan.h"

namespace tg {

Tensor cumsum(const Tensor& x, int dim) {
  const ProfileScope profile("cumsum");
  check_defined(x, "cumsum", "x");
  const int d = normalize_axis(dim, std::max(1, x.ndim()), "cumsum");
  if (x.ndim() == 0) return detail::is_integer(x) ? x.to(DType::i64) : x;
  if (detail::is_integer(x)) return detail::integer_scan(x, d, detail::ScanOp::sum, false, "cumsum");
  check_floating_axis(x, d, "cumsum");
  return detail::float_scan(x, d, detail::ScanOp::sum);
}

}  // namespace tg
