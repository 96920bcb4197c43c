#pragma once
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = a - b (broadcasting);  da += dy, db += -dy   (summed over broadcast dims)
Tensor sub(const Tensor& a, const Tensor& b);
// y = x - s;  dx += dy
Tensor sub(const Tensor& x, Scalar s);
// y = s - x;  dx += -dy
Tensor sub(Scalar s, const Tensor& x);
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator-(const Tensor& x, Scalar s) { return sub(x, s); }
inline Tensor operator-(Scalar s, const Tensor& x) { return sub(s, x); }
// x -= y rebinds x to x - y, as operator+= does (ops/add.h).
inline Tensor& operator-=(Tensor& x, const Tensor& y) { return x = sub(x, y); }
inline Tensor& operator-=(Tensor& x, Scalar s) { return x = sub(x, s); }
}  // namespace tg
