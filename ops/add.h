#pragma once
#include "core/tensor.h"

namespace tg {
// y = a + b (broadcasting);  da += dy, db += dy (summed over broadcast dims)
Tensor add(const Tensor& a, const Tensor& b);
// y = x + s;  dx += dy
Tensor add(const Tensor& x, double s);
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator+(const Tensor& x, double s) { return add(x, s); }
inline Tensor operator+(double s, const Tensor& x) { return add(x, s); }
}  // namespace tg
