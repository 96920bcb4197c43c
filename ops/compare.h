#pragma once
// Elementwise comparisons giving bool masks (for where, masked_fill). They
// broadcast like add and are not differentiable: nothing is recorded.
// Operands must have the same dtype; int64 and bool operands are compared
// through float64 (exact for integers below 2^53).
#include "core/tensor.h"

namespace tg {
// y = (a == b)
Tensor eq(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
// y = (a != b)
Tensor ne(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, double b);
// y = (a < b)
Tensor lt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, double b);
// y = (a <= b)
Tensor le(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, double b);
// y = (a > b)
Tensor gt(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double b);
// y = (a >= b)
Tensor ge(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, double b);
}  // namespace tg
