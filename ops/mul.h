#pragma once
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = a ⊙ b (broadcasting);  da += dy ⊙ b, db += dy ⊙ a   (summed over broadcast dims)
Tensor mul(const Tensor& a, const Tensor& b);
// y = x * s;  dx += dy * s
Tensor mul(const Tensor& x, Scalar s);
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator*(const Tensor& x, Scalar s) { return mul(x, s); }
inline Tensor operator*(Scalar s, const Tensor& x) { return mul(x, s); }
// x *= y rebinds x to x * y, as operator+= does (ops/add.h).
inline Tensor& operator*=(Tensor& x, const Tensor& y) { return x = mul(x, y); }
inline Tensor& operator*=(Tensor& x, Scalar s) { return x = mul(x, s); }
}  // namespace tg
