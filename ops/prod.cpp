#include "ops/prod.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/scan.h"
#include "ops/reshape.h"
#include "ops/select.h"

namespace tg {

Tensor cumprod(const Tensor& x, int dim) {
  const ProfileScope profile("cumprod");
  check_defined(x, "cumprod", "x");
  if (x.ndim() == 0) return detail::is_integer(x) ? x.to(DType::i64) : x;
  const int d = normalize_axis(dim, x.ndim(), "cumprod");
  if (detail::is_integer(x)) return detail::integer_scan(x, d, detail::ScanOp::product, false, "cumprod");
  check_floating_axis(x, d, "cumprod");
  return detail::float_scan(x, d, detail::ScanOp::product);
}

Tensor prod(const Tensor& x, int axis, bool keepdim) {
  const ProfileScope profile("prod");
  check_defined(x, "prod", "x");
  if (x.ndim() == 0) return detail::is_integer(x) ? x.to(DType::i64) : x;
  const int d = normalize_axis(axis, x.ndim(), "prod");
  if (x.size(d) == 0) {  // the empty product: ones, as PyTorch's
    Shape shape = x.shape();
    shape.erase(d);
    const Tensor one = ones(shape, {detail::is_integer(x) ? DType::i64 : x.dtype(), x.device()});
    return keepdim ? unsqueeze(one, d) : one;
  }
  const Tensor y = detail::is_integer(x) ? detail::integer_scan(x, d, detail::ScanOp::product, true, "prod")
                                         : select(cumprod(x, d), d, x.size(d) - 1);
  return keepdim ? unsqueeze(y, d) : y;
}

Tensor prod(const Tensor& x) {
  check_defined(x, "prod", "x");
  if (x.numel() == 0) return ones(Shape{}, {detail::is_integer(x) ? DType::i64 : x.dtype(), x.device()});
  return prod(reshape(x, Shape{x.numel()}), 0);
}

}  // namespace tg
