#pragma once
// In-place update helpers for optimizers, composed from tg::kernels (nothing
// here is recorded on the tape). Names ending in _ modify their first argument.
#include "core/tensor/tensor.h"

namespace tg::optim {

// t ← s·t
void scale_(const Tensor& t, double s);
// s·t, as a new tensor (the bits scale_ leaves in t)
Tensor scale(const Tensor& t, double s);
// y ← y + a·x
void axpy_(const Tensor& y, double a, const Tensor& x);
// y + a·x, as a new tensor
Tensor axpy(const Tensor& y, double a, const Tensor& x);

}  // namespace tg::optim
