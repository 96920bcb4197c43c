#pragma once
// A number written where a tensor could be (x + 2, x * 0.5, x / 3): what
// PyTorch calls a Python scalar. Whether it was written as an integer or as a
// floating-point number decides the result's dtype, as torch.result_type
// decides it with a scalar operand:
//   int64 tensor + 2     -> int64 (exact)
//   int64 tensor + 0.5   -> the default float type (float32)
//   int64 tensor / 2     -> float32: `/` is true division (floor_divide floors)
//   float32 tensor + 0.5 -> float32: a scalar never widens a floating tensor
//   bool tensor + 1      -> int64; bool tensor + 0.5 -> float32
// Built from any C++ arithmetic type implicitly; bool counts as an integer.
#include <concepts>
#include <cstdint>

#include "core/types/dtype.h"

namespace tg {

class Scalar {
 public:
  template <std::integral I>
  Scalar(I value) : integer_(static_cast<int64_t>(value)), real_(static_cast<double>(value)), integral_(true) {}  // NOLINT
  template <std::floating_point F>
  Scalar(F value) : real_(static_cast<double>(value)), integral_(false) {}  // NOLINT

  bool is_integral() const { return integral_; }
  double to_double() const { return real_; }
  int64_t to_int() const { return integer_; }  // integral only

 private:
  int64_t integer_ = 0;
  double real_ = 0;
  bool integral_ = false;
};

// The dtype of `tensor op scalar` for add, sub, mul (and the scalar first):
// a floating tensor keeps its dtype; an integer tensor keeps its own (bool
// gives int64) with an integral scalar, the default float type with a floating one.
inline DType scalar_result_type(DType tensor, const Scalar& s) {
  if (!is_integral(tensor)) return tensor;
  if (!s.is_integral()) return default_dtype();
  return tensor == DType::boolean ? DType::i64 : tensor;  // an int8 tensor stays int8
}

}  // namespace tg
