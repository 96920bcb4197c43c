#pragma once
#include <optional>

#include "core/tensor/tensor.h"

namespace tg {
// y = min(max(x, lo), hi), either bound optional (std::nullopt: unbounded);
//   dx += dy · [lo ≤ x ≤ hi]   (as PyTorch: 1 inside and on a bound, 0 outside)
// NaN stays NaN. lo > hi throws (PyTorch would give hi everywhere).
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);
// clamp(x, lo, none) and clamp(x, none, hi), as torch.clamp_min and torch.clamp_max.
Tensor clamp_min(const Tensor& x, double lo);
Tensor clamp_max(const Tensor& x, double hi);
}  // namespace tg
