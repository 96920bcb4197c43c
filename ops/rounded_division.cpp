#include "ops/rounded_division.h"

#include <cmath>
#include <vector>

#include "core/tensor/creation.h"
#include "core/autograd/grad_mode.h"
#include "core/services/profiler.h"
#include "ops/broadcast_to.h"
#include "ops/detail/host_tensor.h"
#include "ops/detail/integer_arith.h"
#include "ops/mul.h"
#include "ops/result_type.h"
#include "ops/sub.h"

namespace tg {

namespace {

// The rounded quotient of floating operands, computed on the host in double and stored in their dtype.
Tensor rounded_float_quotient(const char* name, const Tensor& a, const Tensor& b, RoundingMode mode) {
  const NoGrad no_grad;
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const std::vector<double> x = broadcast_to(a, shape).to_vector<double>(), y = broadcast_to(b, shape).to_vector<double>();
  std::vector<double> q(x.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = mode == RoundingMode::floor ? std::floor(x[i] / y[i]) : std::trunc(x[i] / y[i]);
  return detail::host_tensor(q, shape, {a.dtype(), a.device()});
}

Tensor rounded_quotient(const char* name, const Tensor& a_in, const Tensor& b_in, RoundingMode mode) {
  const ProfileScope profile(name);
  check_defined(a_in, name, "a");
  check_defined(b_in, name, "b");
  const auto [a, b] = promoted(a_in, b_in);
  if (detail::both_integer(a, b)) return detail::integer_divide(name, a, b, mode == RoundingMode::floor);
  return rounded_float_quotient(name, a, b, mode);
}

// a - q·b with the quotient q fixed: da += dy, db += -q ⊙ dy (by the recorded sub and mul).
Tensor left_over(const char* name, const Tensor& a, const Tensor& b, RoundingMode mode) {
  const Tensor q = rounded_quotient(name, a.detach(), b.detach(), mode);
  return sub(a, mul(q, b));  // sub and mul promote as the quotient did; int64 operands: exact integer arithmetic
}

}  // namespace

Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode) {
  return rounded_quotient(mode == RoundingMode::floor ? "floor_divide" : "div_trunc", a, b, mode);
}
Tensor div(const Tensor& a, Scalar b, RoundingMode mode) { return div(a, scalar_operand(a, b), mode); }
Tensor floor_divide(const Tensor& a, const Tensor& b) { return div(a, b, RoundingMode::floor); }
Tensor floor_divide(const Tensor& a, Scalar b) { return div(a, b, RoundingMode::floor); }
Tensor remainder(const Tensor& a, const Tensor& b) { return left_over("remainder", a, b, RoundingMode::floor); }
Tensor remainder(const Tensor& a, Scalar b) { return remainder(a, scalar_operand(a, b)); }
Tensor fmod(const Tensor& a, const Tensor& b) { return left_over("fmod", a, b, RoundingMode::trunc); }
Tensor fmod(const Tensor& a, Scalar b) { return fmod(a, scalar_operand(a, b)); }

}  // namespace tg
