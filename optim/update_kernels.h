#pragma once
// In-place update helpers for optimizers, composed from tg::kernels (nothing
// here is recorded on the tape). Names ending in _ modify their first argument.
#include "core/tensor.h"

namespace tg::optim {

// t ← s·t
void scale_(const Tensor& t, double s);
// y ← y + a·x
void axpy_(const Tensor& y, double a, const Tensor& x);
// y + a·x, as a new tensor
Tensor axpy(const Tensor& y, double a, const Tensor& x);
// y ← y + a·x⊙x
void add_square_(const Tensor& y, double a, const Tensor& x);
// y ← max(y, x)
void maximum_(const Tensor& y, const Tensor& x);
// √x / d + ε, as a new tensor (Adam's denominator)
Tensor sqrt_div_add(const Tensor& x, double d, double eps);
// y ← y + a·(n / d)
void add_ratio_(const Tensor& y, double a, const Tensor& n, const Tensor& d);

}  // namespace tg::optim
