#include "ops/prod.h"

#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/grad_mode.h"
#include "core/profiler.h"
#include "ops/concat.h"
#include "ops/detail/host_tensor.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/select.h"
#include "ops/slice.h"

namespace tg {

namespace {

bool is_integer(const Tensor& x) { return x.dtype() == DType::i64 || x.dtype() == DType::boolean; }

// Integers: a running int64 product along dim, on the host; `last_only` keeps the last of each run (prod).
Tensor integer_cumprod(const Tensor& x, int d, bool last_only) {
  const NoGrad no_grad;
  const std::vector<int64_t> values = (x.dtype() == DType::i64 ? x : x.to(DType::i64)).contiguous().to_vector<int64_t>();
  int64_t inner = 1;  // elements between two steps along dim
  for (int i = d + 1; i < x.ndim(); ++i) inner *= x.size(i);
  const int64_t n = x.size(d), outer = n * inner == 0 ? 0 : x.numel() / (n * inner);
  std::vector<int64_t> out(last_only ? static_cast<size_t>(outer * inner) : values.size(), 1);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t total = 1;
      for (int64_t j = 0; j < n; ++j) {
        const size_t at = static_cast<size_t>((o * n + j) * inner + i);
        if (__builtin_mul_overflow(total, values[at], &total)) fail("prod: int64 overflow along dim {}", d);
        if (!last_only) out[at] = total;
      }
      if (last_only) out[static_cast<size_t>(o * inner + i)] = total;
    }
  Shape shape = x.shape();
  if (last_only) shape.erase(d);
  return detail::host_tensor(out, shape, {DType::i64, x.device()});
}

}  // namespace

Tensor cumprod(const Tensor& x, int dim) {
  const ProfileScope profile("cumprod");
  check_defined(x, "cumprod", "x");
  if (x.ndim() == 0) return is_integer(x) ? x.to(DType::i64) : x;
  const int d = normalize_axis(dim, x.ndim(), "cumprod");
  if (is_integer(x)) return integer_cumprod(x, d, false);
  check_floating_axis(x, d, "cumprod");
  const int64_t n = x.size(d);
  Tensor y = x;
  for (int64_t k = 1; k < n; k *= 2) {  // y[i] *= y[i - k], ones shifted in
    Shape ones_shape = x.shape();
    ones_shape[d] = k;
    y = mul(y, concat({ones(ones_shape, {x.dtype(), x.device()}), slice(y, d, 0, n - k)}, d));
  }
  return y;
}

Tensor prod(const Tensor& x, int axis, bool keepdim) {
  const ProfileScope profile("prod");
  check_defined(x, "prod", "x");
  if (x.ndim() == 0) return is_integer(x) ? x.to(DType::i64) : x;
  const int d = normalize_axis(axis, x.ndim(), "prod");
  if (x.size(d) == 0) {  // the empty product: ones, as PyTorch's
    Shape shape = x.shape();
    shape.erase(d);
    const Tensor one = ones(shape, {is_integer(x) ? DType::i64 : x.dtype(), x.device()});
    return keepdim ? unsqueeze(one, d) : one;
  }
  const Tensor y = is_integer(x) ? integer_cumprod(x, d, true) : select(cumprod(x, d), d, x.size(d) - 1);
  return keepdim ? unsqueeze(y, d) : y;
}

Tensor prod(const Tensor& x) {
  check_defined(x, "prod", "x");
  if (x.numel() == 0) return is_integer(x) ? ones(Shape{}, {DType::i64, x.device()}) : ones(Shape{}, {x.dtype(), x.device()});
  return prod(reshape(x, Shape{x.numel()}), 0);
}

}  // namespace tg
