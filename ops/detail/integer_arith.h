#pragma once
// Arithmetic on int64 (and bool) tensors (lengths, counts, indices): exact
// integer results, broadcasting like the float ops, never recorded (integers
// have no gradient). BinaryOp::div here is floor division (floor_divide,
// Python's //); `/` on integers is true division and never comes here
// (ops/div.h). Division by zero is refused. The loops run on the host: a device tensor is
// copied there and back (int64 tensors are small bookkeeping).
#include "core/dispatch/backend.h"
#include "core/dispatch/elementwise.h"
#include "core/tensor/tensor.h"

namespace tg::detail {

// Both int64 or bool: integer arithmetic (bool with bool too, as PyTorch's int64 result for bool + int).
bool both_integer(const Tensor& a, const Tensor& b);
bool is_integer(const Tensor& t);
// op is add, sub, mul or div.
Tensor integer_binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b);
Tensor integer_scalar(const char* name, BinaryOp op, const Tensor& x, int64_t s, bool scalar_first = false);
// -x or |x| of an int64 tensor (overflow at INT64_MIN refused).
Tensor integer_unary(const char* name, UnaryOp op, const Tensor& x);
// Rounded division of integers: floor (Python's //) or toward zero (C's /).
Tensor integer_divide(const char* name, const Tensor& a, const Tensor& b, bool floor);

}  // namespace tg::detail
