#pragma once
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = a / b (broadcasting);  da += dy / b, db += -dy ⊙ a / b² = -(dy / b) ⊙ y
//   (summed over broadcast dims)
Tensor div(const Tensor& a, const Tensor& b);
// y = x / s;  dx += dy / s
Tensor div(const Tensor& x, Scalar s);
// y = s / x;  dx += -dy ⊙ s / x² = -dy ⊙ y / x
Tensor div(Scalar s, const Tensor& x);
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator/(const Tensor& x, Scalar s) { return div(x, s); }
inline Tensor operator/(Scalar s, const Tensor& x) { return div(s, x); }
// x /= y rebinds x to x / y, as operator+= does (ops/add.h).
inline Tensor& operator/=(Tensor& x, const Tensor& y) { return x = div(x, y); }
inline Tensor& operator/=(Tensor& x, Scalar s) { return x = div(x, s); }
}  // namespace tg
