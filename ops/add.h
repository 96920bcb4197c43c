#pragma once
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {
// y = a + b (broadcasting);  da += dy, db += dy (summed over broadcast dims)
Tensor add(const Tensor& a, const Tensor& b);
// y = x + s;  dx += dy
Tensor add(const Tensor& x, Scalar s);
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator+(const Tensor& x, Scalar s) { return add(x, s); }
inline Tensor operator+(Scalar s, const Tensor& x) { return add(x, s); }
// x += y rebinds x to x + y, a new tensor on the tape (not an in-place
// write: other handles to the old x keep its value), so `total += loss` is safe
// to differentiate.
inline Tensor& operator+=(Tensor& x, const Tensor& y) { return x = add(x, y); }
inline Tensor& operator+=(Tensor& x, Scalar s) { return x = add(x, s); }
}  // namespace tg
