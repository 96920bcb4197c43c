#pragma once
// Type promotion, PyTorch's rules (torch.result_type), for the ops that take
// two tensors (add, sub, mul, div, the comparisons, where): an operand of
// another dtype is converted (a recorded .to(), so its gradient comes back in
// its own dtype) before the op.
//
//   categories   bool < integer (int64) < floating (float16, bfloat16, float32, float64)
//   promote_types(x, y)   the higher category; within floating the wider
//                         (float16 with bfloat16: float32)
//   result_type(a, b)     as promote_types, except that a zero-dim tensor
//                         (shape ()) counts only when its category is higher
//                         than the dimensioned operand's: float32 (3,) + float64 ()
//                         is float32, int64 (3,) + float32 () is float32.
//
// With a number instead of a tensor (x + 2, where(c, x, 0.0)): core/types/scalar.h.
#include <utility>

#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {

DType promote_types(DType a, DType b);
DType result_type(const Tensor& a, const Tensor& b);

// a and b in their result type (the same tensors when they already are).
std::pair<Tensor, Tensor> promoted(const Tensor& a, const Tensor& b);

// The number s as a zero-dim tensor beside `a`: a's device, the dtype
// `a op s` takes (scalar_result_type), for the ops that take a number where a
// tensor could be (where, remainder, ...).
Tensor scalar_operand(const Tensor& a, const Scalar& s);

}  // namespace tg
