#include "ops/sort.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/gather.h"
#include "ops/reshape.h"

namespace tg {

namespace {

// `dim` of x, for sort's ops; a zero-dim x has one "dimension" of size 1 (-1 or 0).
int sort_axis(const Tensor& x, int dim, const char* op) {
  check_defined(x, op, "x");
  if (x.ndim() == 0) {
    if (dim != 0 && dim != -1) fail("{}: dim {} is out of range for a zero-dim x (expected -1 or 0)", op, dim);
    return 0;
  }
  return normalize_axis(dim, x.ndim(), op);
}

// The order of each run of n values at stride `inner` (x's row-major layout
// along dim d), as int64 positions along d in the same layout.
template <typename T>
std::vector<int64_t> stable_order(const std::vector<T>& v, int64_t outer, int64_t n, int64_t inner, bool descending) {
  std::vector<int64_t> out(v.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  // NaN is the largest value: a before b when a < b, or b alone is NaN (ascending).
  auto less = [](T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a)) return false;
      if (std::isnan(b)) return true;
    }
    return a < b;
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * n * inner + i;
      std::iota(order.begin(), order.end(), int64_t{0});
      const auto at = [&](int64_t j) { return v[static_cast<size_t>(base + j * inner)]; };
      if (descending)
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return less(at(b), at(a)); });
      else
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return less(at(a), at(b)); });
      for (int64_t j = 0; j < n; ++j) out[static_cast<size_t>(base + j * inner)] = order[static_cast<size_t>(j)];
    }
  return out;
}

// The int64 indices of sort along axis d (x's shape, on x's device).
Tensor sort_indices(const Tensor& x, int d, bool descending) {
  const Shape& shape = x.shape();
  const int64_t n = x.ndim() == 0 ? 1 : shape[d];
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= shape[i];
  for (int i = d + 1; i < x.ndim(); ++i) inner *= shape[i];
  if (n == 0) outer = 0;
  // Read in row-major order on the host: int64 exactly, the others as double (exact for every float dtype).
  const std::vector<int64_t> order =
      x.dtype() == DType::i64
          ? stable_order(x.detach().to_vector<int64_t>(), outer, n, inner, descending)
          : stable_order(x.detach().to_vector<double>(), outer, n, inner, descending);
  // Built flat, then shaped (from_vector reads an empty shape as 1-D).
  return reshape(from_vector(order, Shape{x.numel()}, {DType::i64, x.device()}), shape);
}

}  // namespace

// Composed: the order on the host, then values = gather(x, dim, indices) (its backward scatters back).
Sorted sort(const Tensor& x, int dim, bool descending, bool /*stable: always*/) {
  const ProfileScope profile("sort");
  const int d = sort_axis(x, dim, "sort");
  Sorted result;
  result.indices = sort_indices(x, d, descending);
  if (x.ndim() == 0)
    result.values = reshape(gather(reshape(x, Shape{1}), 0, reshape(result.indices, Shape{1})), Shape{});
  else
    result.values = gather(x, d, result.indices);
  return result;
}

Tensor argsort(const Tensor& x, int dim, bool descending, bool /*stable: always*/) {
  const ProfileScope profile("argsort");
  return sort_indices(x, sort_axis(x, dim, "argsort"), descending);
}

}  // namespace tg
