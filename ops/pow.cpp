#include "ops/pow.h"

#include <cmath>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "ops/detail/host_tensor.h"
#include "ops/detail/integer_arith.h"
#include "ops/detail/unary.h"

namespace tg {
// f and f' as the cpu and CUDA backends compute them: Unary<UnaryOp::pow_scalar> in
// core/dispatch/elementwise.h (the reference backend's plain switch is the independent check).
// y = xˢ;  dx += dy ⊙ s·xˢ⁻¹
Tensor pow(const Tensor& x, Scalar s) {
  if (detail::is_integer(x)) {
    if (!s.is_integral()) return pow(x.to(default_dtype()), s);
    // int64 ** non-negative integer stays int64 and exact (as PyTorch's); a negative exponent is refused, as
    // PyTorch refuses it ("Integers to negative integer powers are not allowed").
    if (s.to_int() < 0) fail("pow: an integer tensor to the negative integer power {}; convert it to float first", s.to_int());
    const NoGrad no_grad;
    std::vector<int64_t> values = contiguous_values((x.dtype() == DType::i64 ? x : x.to(DType::i64))).to_vector<int64_t>();
    for (int64_t& v : values) {
      int64_t result = 1, base = v;
      for (int64_t e = s.to_int(); e > 0; e >>= 1) {  // square and multiply, overflow refused
        if ((e & 1) && __builtin_mul_overflow(result, base, &result)) fail("pow: int64 overflow ({} ** {})", v, s.to_int());
        if (e > 1 && __builtin_mul_overflow(base, base, &base)) fail("pow: int64 overflow ({} ** {})", v, s.to_int());
      }
      v = result;
    }
    return detail::host_tensor(values, x.shape(), {DType::i64, x.device()});
  }
  return detail::unary_op("pow", UnaryOp::pow_scalar, x, s.to_double());
}
}  // namespace tg
