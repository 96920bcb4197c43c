#include "ops/cumsum.h"

#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/profiler.h"
#include "ops/matmul.h"
#include "ops/transpose.h"

namespace tg {

// Recorded through matmul (dx = dy Uᵀ: the reversed cumulative sum).
Tensor cumsum(const Tensor& x, int dim) {
  const ProfileScope profile("cumsum");
  const int d = check_floating_axis(x, dim, "cumsum");
  const int64_t n = x.size(d);
  std::vector<double> upper(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = j; i < n; ++i) upper[static_cast<size_t>(j * n + i)] = 1.0;
  const Tensor U = from_vector(upper, Shape{n, n}, {DType::f64}).to(x.dtype()).to(x.device());
  // dim last (recorded permutes), the product, dim back in place.
  std::vector<int> to_last, back(static_cast<size_t>(x.ndim()));
  for (int i = 0; i < x.ndim(); ++i)
    if (i != d) to_last.push_back(i);
  to_last.push_back(d);
  for (int i = 0; i < x.ndim(); ++i) back[static_cast<size_t>(to_last[static_cast<size_t>(i)])] = i;
  return permute(matmul(permute(x, to_last), U), back);  // (..., n) @ (n, n)
}

}  // namespace tg
