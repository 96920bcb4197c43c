#include "ops/detail/integer_arith.h"

#include <cmath>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/profiler.h"
#include "core/tape.h"
#include "ops/broadcast_to.h"

namespace tg::detail {

namespace {
// floor(a / b) for b ≠ 0: C++ truncates toward zero, so step down when the signs differ and it was inexact.
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::vector<int64_t> host_values(const Tensor& t, const Shape& shape) {
  NoGrad no_grad;
  return broadcast_to(t, shape).to_vector<int64_t>();
}
}  // namespace

bool both_int64(const Tensor& a, const Tensor& b) { return a.dtype() == DType::i64 && b.dtype() == DType::i64; }

Tensor integer_binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  const ProfileScope profile(name);
  check_same_kind(a, b, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const std::vector<int64_t> x = host_values(a, shape), y = host_values(b, shape);
  std::vector<int64_t> out(x.size());
  for (size_t i = 0; i < out.size(); ++i) {
    bool overflow = false;
    switch (op) {
      case BinaryOp::add: overflow = __builtin_add_overflow(x[i], y[i], &out[i]); break;
      case BinaryOp::sub: overflow = __builtin_sub_overflow(x[i], y[i], &out[i]); break;
      case BinaryOp::mul: overflow = __builtin_mul_overflow(x[i], y[i], &out[i]); break;
      case BinaryOp::div:
        if (y[i] == 0) fail("{}: int64 division by zero (element {} of the broadcast shape {})", name, i, shape.str());
        out[i] = floor_div(x[i], y[i]);
        break;
      default: fail("{}: not an integer arithmetic op", name);
    }
    if (overflow) fail("{}: int64 overflow at element {} ({} and {})", name, i, x[i], y[i]);
  }
  return from_vector(out, shape, {DType::i64, a.device()});
}

Tensor integer_scalar(const char* name, BinaryOp op, const Tensor& x, double s, bool scalar_first) {
  if (s != std::floor(s) || std::abs(s) >= 0x1p63)
    fail("{}: an int64 tensor with the scalar {}, which is not a whole number; convert the tensor first "
         "(x.to(DType::f32))",
         name, s);
  const Tensor scalar_tensor = from_vector(std::vector<int64_t>{static_cast<int64_t>(s)}, Shape{}, {DType::i64, x.device()});
  return scalar_first ? integer_binary(name, op, scalar_tensor, x) : integer_binary(name, op, x, scalar_tensor);
}

}  // namespace tg::detail
