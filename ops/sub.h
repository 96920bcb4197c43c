#pragma once
#include "core/tensor.h"

namespace tg {
// y = a - b (broadcasting);  da += dy, db += -dy   (summed over broadcast dims)
Tensor sub(const Tensor& a, const Tensor& b);
// y = x - s;  dx += dy
Tensor sub(const Tensor& x, double s);
// y = s - x;  dx += -dy
Tensor sub(double s, const Tensor& x);
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator-(const Tensor& x, double s) { return sub(x, s); }
inline Tensor operator-(double s, const Tensor& x) { return sub(s, x); }
// x -= y rebinds x to x - y, as operator+= does (ops/add.h).
inline Tensor& operator-=(Tensor& x, const Tensor& y) { return x = sub(x, y); }
inline Tensor& operator-=(Tensor& x, double s) { return x = sub(x, s); }
}  // namespace tg
