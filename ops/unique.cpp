#include "ops/unique.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/reshape.h"

namespace tg {

namespace {

// Host work for one element type T (int64 exactly, every other dtype as double).
template <typename T>
Unique unique_of(const Tensor& x, const std::vector<T>& v, UniqueOptions options) {
  const auto n = static_cast<int64_t>(v.size());
  std::vector<int64_t> order(v.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  auto is_nan = [](T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(a);
    return false;
  };
  // Ascending, NaN last (each NaN its own value).
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const T va = v[static_cast<size_t>(a)], vb = v[static_cast<size_t>(b)];
    if (is_nan(va)) return false;
    if (is_nan(vb)) return true;
    return va < vb;
  });
  std::vector<T> values;
  std::vector<int64_t> inverse(v.size()), counts;
  for (int64_t k = 0; k < n; ++k) {
    const T value = v[static_cast<size_t>(order[static_cast<size_t>(k)])];
    if (values.empty() || is_nan(value) || !(values.back() == value)) {
      values.push_back(value);
      counts.push_back(0);
    }
    ++counts.back();
    inverse[static_cast<size_t>(order[static_cast<size_t>(k)])] = static_cast<int64_t>(values.size()) - 1;
  }
  const auto m = static_cast<int64_t>(values.size());
  Unique out;
  out.values = from_vector(values, Shape{m}, {x.dtype(), x.device()});
  if (options.return_inverse)  // built flat, then shaped (from_vector reads an empty shape as 1-D)
    out.inverse = reshape(from_vector(inverse, Shape{n}, {DType::i64, x.device()}), x.shape());
  if (options.return_counts) out.counts = from_vector(counts, Shape{m}, {DType::i64, x.device()});
  return out;
}

}  // namespace

Unique unique(const Tensor& x, UniqueOptions options) {
  const ProfileScope profile("unique");
  check_defined(x, "unique", "x");
  if (x.dtype() == DType::i64) return unique_of(x, x.detach().to_vector<int64_t>(), options);
  return unique_of(x, x.detach().to_vector<double>(), options);  // exact for float16, bfloat16, float32, bool
}

}  // namespace tg
