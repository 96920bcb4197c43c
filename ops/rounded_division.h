#pragma once
// Division that rounds, and what is left over, as PyTorch's:
//   div(a, b, RoundingMode::floor)   floor(a / b): torch.floor_divide, Python's //
//   div(a, b, RoundingMode::trunc)   a / b toward zero: C's integer /
//   remainder(a, b) = a - floor(a / b)·b   the sign of b: Python's %, torch.remainder (operator%)
//   fmod(a, b)      = a - trunc(a / b)·b   the sign of a: C's fmod, torch.fmod
// Integers stay int64 and are exact (division by zero refused); floats stay
// in their promoted dtype (ops/result_type.h; a scalar: core/types/scalar.h).
// The rounded quotients carry no gradient (PyTorch's is zero everywhere);
// remainder and fmod are recorded as a - q·b with q held fixed:
//   da += dy,  db += -q ⊙ dy.
// (`/` itself is true division: ops/div.h.)
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {

enum class RoundingMode { floor, trunc };

Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode);
Tensor div(const Tensor& a, Scalar b, RoundingMode mode);
Tensor floor_divide(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, Scalar b);
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, Scalar b);
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, Scalar b);
inline Tensor operator%(const Tensor& a, const Tensor& b) { return remainder(a, b); }
inline Tensor operator%(const Tensor& a, Scalar b) { return remainder(a, b); }

}  // namespace tg
