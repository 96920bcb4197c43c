#include "ops/detail/scan.h"

#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "ops/add.h"
#include "ops/concat.h"
#include "ops/detail/host_tensor.h"
#include "ops/mul.h"
#include "ops/slice.h"

namespace tg::detail {

Tensor integer_scan(const Tensor& x, int d, ScanOp op, bool last_only, const char* name) {
  const NoGrad no_grad;
  const std::vector<int64_t> values = contiguous_values((x.dtype() == DType::i64 ? x : x.to(DType::i64))).to_vector<int64_t>();
  int64_t inner = 1;  // elements between two steps along dim
  for (int i = d + 1; i < x.ndim(); ++i) inner *= x.size(i);
  const int64_t n = x.size(d), outer = n * inner == 0 ? 0 : x.numel() / (n * inner);
  const int64_t identity = op == ScanOp::sum ? 0 : 1;
  std::vector<int64_t> out(last_only ? static_cast<size_t>(outer * inner) : values.size(), identity);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t total = identity;
      for (int64_t j = 0; j < n; ++j) {
        const size_t at = static_cast<size_t>((o * n + j) * inner + i);
        const bool overflow = op == ScanOp::sum ? __builtin_add_overflow(total, values[at], &total)
                                                : __builtin_mul_overflow(total, values[at], &total);
        if (overflow) fail("{}: int64 overflow along dim {}", name, d);
        if (!last_only) out[at] = total;
      }
      if (last_only) out[static_cast<size_t>(o * inner + i)] = total;
    }
  Shape shape = x.shape();
  if (last_only) shape.erase(d);
  return host_tensor(out, shape, {DType::i64, x.device()});
}

Tensor float_scan(const Tensor& x, int d, ScanOp op) {
  const int64_t n = x.size(d);
  Tensor y = x;
  for (int64_t k = 1; k < n; k *= 2) {  // y[i] op= y[i - k], the identity shifted in
    Shape identity_shape = x.shape();
    identity_shape[d] = k;
    const Tensor identity = full(identity_shape, op == ScanOp::sum ? 0.0 : 1.0, {x.dtype(), x.device()});
    const Tensor shifted = concat({identity, slice(y, d, 0, n - k)}, d);
    y = op == ScanOp::sum ? add(y, shifted) : mul(y, shifted);
  }
  return y;
}

}  // namespace tg::detail
