#pragma once
// Elementwise comparisons giving bool masks (for where, masked_fill). They
// broadcast like add and are not differentiable: nothing is recorded.
// Operands are promoted as torch.result_type promotes them (a number as a
// Python scalar: `ints == 0.5` compares in float32, as PyTorch's); int64 and
// bool operands are compared through float64 (exact for integers below 2^53).
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = (a == b)
Tensor eq(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, Scalar b);
// y = (a != b)
Tensor ne(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, Scalar b);
// y = (a < b)
Tensor lt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, Scalar b);
// y = (a <= b)
Tensor le(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, Scalar b);
// y = (a > b)
Tensor gt(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, Scalar b);
// y = (a >= b)
Tensor ge(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, Scalar b);

// x > 0.0, a < b, ...: the same as gt, lt, ... Not == and !=: a Tensor is a
// handle, and `a == b` would read as "the same tensor" (is_same) in C++; use eq, ne.
inline Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
inline Tensor operator<(const Tensor& a, Scalar b) { return lt(a, b); }
inline Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
inline Tensor operator<=(const Tensor& a, Scalar b) { return le(a, b); }
inline Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
inline Tensor operator>(const Tensor& a, Scalar b) { return gt(a, b); }
inline Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
inline Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, b); }
}  // namespace tg
