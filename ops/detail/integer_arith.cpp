#include "ops/detail/integer_arith.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/autograd/tape.h"
#include "ops/broadcast_to.h"
#include "ops/detail/host_tensor.h"

namespace tg::detail {

namespace {
// floor(a / b) for b ≠ 0: C++ truncates toward zero, so step down when the signs differ and it was inexact.
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::vector<int64_t> host_values(const Tensor& t, const Shape& shape) {
  NoGrad no_grad;
  const Tensor wide = t.dtype() == DType::i64 ? t : t.to(DType::i64);  // bool: 0 and 1
  return broadcast_to(wide, shape).to_vector<int64_t>();
}

Tensor integer_binary_rounding(const char* name, BinaryOp op, const Tensor& a, const Tensor& b, bool floor) {
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
        if (x[i] == INT64_MIN && y[i] == -1) overflow = true;
        else out[i] = floor ? floor_div(x[i], y[i]) : x[i] / y[i];
        break;
      default: fail("{}: not an integer arithmetic op", name);
    }
    if (overflow) fail("{}: int64 overflow at element {} ({} and {})", name, i, x[i], y[i]);
  }
  return host_tensor(out, shape, {DType::i64, a.device()});
}
}  // namespace

bool is_integer(const Tensor& t) { return t.dtype() == DType::i64 || t.dtype() == DType::boolean; }
bool both_integer(const Tensor& a, const Tensor& b) { return is_integer(a) && is_integer(b); }

Tensor integer_binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  return integer_binary_rounding(name, op, a, b, true);
}

Tensor integer_divide(const char* name, const Tensor& a, const Tensor& b, bool floor) {
  return integer_binary_rounding(name, BinaryOp::div, a, b, floor);
}

Tensor integer_unary(const char* name, UnaryOp op, const Tensor& x) {
  const ProfileScope profile(name);
  if (x.dtype() != DType::i64) fail("{}: expected an int64 tensor, got {}", name, dtype_name(x.dtype()));
  if (op != UnaryOp::neg && op != UnaryOp::abs) fail("{}: not an integer unary op", name);
  std::vector<int64_t> values = host_values(x, x.shape());
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == INT64_MIN) fail("{}: int64 overflow at element {} ({})", name, i, values[i]);
    if (op == UnaryOp::neg || values[i] < 0) values[i] = -values[i];
  }
  return host_tensor(values, x.shape(), {DType::i64, x.device()});
}

Tensor integer_scalar(const char* name, BinaryOp op, const Tensor& x, int64_t s, bool scalar_first) {
  const Tensor scalar_tensor = host_tensor(std::vector<int64_t>{s}, Shape{}, {DType::i64, x.device()});
  const Tensor wide = x.dtype() == DType::i64 ? x : x.to(DType::i64);  // bool: 0 and 1, as PyTorch's bool + 1
  return scalar_first ? integer_binary(name, op, scalar_tensor, wide) : integer_binary(name, op, wide, scalar_tensor);
}

}  // namespace tg::detail
