#pragma once
// Shared machinery of the elementwise unary ops (tanh, exp, ...): each op file
// holds its formula and calls this with its UnaryOp; the backend kernel pair
// unary / unary_backward holds the maths of f and f'.
#include "core/dispatch/elementwise.h"
#include "core/tensor/tensor.h"

namespace tg::detail {

// y = f(x, scalar);  dx += f'(x) * dy
Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double scalar = 0);

}  // namespace tg::detail
