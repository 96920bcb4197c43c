#pragma once
#include "core/services/generator.h"
#include "core/tensor/tensor.h"

namespace tg {
// Training: y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element, drawn on the
// host from `gen` (the same seed gives the same mask);  dx += dy * m / (1 - p).
// Evaluation (training false) or p = 0: y = x. p must be in [0, 1).
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen = default_generator());
}  // namespace tg
