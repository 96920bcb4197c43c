#include "ops/cumsum.h"

#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/grad_mode.h"
#include "core/profiler.h"
#include "ops/add.h"
#include "ops/concat.h"
#include "ops/detail/host_tensor.h"
#include "ops/slice.h"

namespace tg {

namespace {

// Integers: a running int64 total along dim, on the host.
Tensor integer_cumsum(const Tensor& x, int d) {
  const NoGrad no_grad;
  const std::vector<int64_t> values = (x.dtype() == DType::i64 ? x : x.to(DType::i64)).contiguous().to_vector<int64_t>();
  int64_t inner = 1;  // elements between two steps along dim
  for (int i = d + 1; i < x.ndim(); ++i) inner *= x.size(i);
  const int64_t n = x.size(d), outer = x.numel() / std::max<int64_t>(1, n * inner);
  std::vector<int64_t> out(values.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t total = 0;
      for (int64_t j = 0; j < n; ++j) {
        const size_t at = static_cast<size_t>((o * n + j) * inner + i);
        if (__builtin_add_overflow(total, values[at], &total)) fail("cumsum: int64 overflow along dim {}", d);
        out[at] = total;
      }
    }
  return detail::host_tensor(out, x.shape(), {DType::i64, x.device()});
}

}  // namespace

Tensor cumsum(const Tensor& x, int dim) {
  const ProfileScope profile("cumsum");
  check_defined(x, "cumsum", "x");
  const int d = normalize_axis(dim, std::max(1, x.ndim()), "cumsum");
  if (x.ndim() == 0) return x.dtype() == DType::i64 || x.dtype() == DType::boolean ? x.to(DType::i64) : x;
  if (x.dtype() == DType::i64 || x.dtype() == DType::boolean) return integer_cumsum(x, d);
  check_floating_axis(x, d, "cumsum");
  const int64_t n = x.size(d);
  Tensor y = x;
  for (int64_t k = 1; k < n; k *= 2) {  // y[i] += y[i - k], zeros shifted in
    Shape zeros_shape = x.shape();
    zeros_shape[d] = k;
    const Tensor shifted = concat({zeros(zeros_shape, {x.dtype(), x.device()}), slice(y, d, 0, n - k)}, d);
    y = add(y, shifted);
  }
  return y;
}

}  // namespace tg
