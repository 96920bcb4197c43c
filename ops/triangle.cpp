#include "ops/triangle.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/where.h"

namespace tg {

namespace {

// keep(i, j) over the last two dims of x, as a bool (R, C) mask on x's device; y = where(mask, x, 0).
template <typename Keep>
Tensor triangle(const char* op, const Tensor& x, Keep keep) {
  const ProfileScope profile(op);
  check_defined(x, op, "x");
  if (x.ndim() < 2) fail("{}: x must have at least 2 dims (..., rows, columns), got {}", op, x.shape().str());
  const int64_t rows = x.size(-2), cols = x.size(-1);
  std::vector<int64_t> mask(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) mask[static_cast<size_t>(i * cols + j)] = keep(j - i);
  const Tensor kept = from_vector(mask, Shape{rows, cols}, {DType::i64}).to(DType::boolean).to(x.device());
  return where(kept, x, zeros({}, {x.dtype(), x.device()}));
}

}  // namespace

Tensor triu(const Tensor& x, int64_t diagonal) {
  return triangle("triu", x, [&](int64_t offset) { return offset >= diagonal; });
}

Tensor tril(const Tensor& x, int64_t diagonal) {
  return triangle("tril", x, [&](int64_t offset) { return offset <= diagonal; });
}

}  // namespace tg
