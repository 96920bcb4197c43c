#pragma once
// Initialisation of parameters in place (not recorded). Each draws from the
// given generator so that a seed reproduces a model.
#include "core/generator.h"
#include "core/tensor.h"

namespace tg::nn::init {

// U(low, high)
void uniform_(const Tensor& t, double low, double high, Generator& gen = default_generator());
// N(mean, std²)
void normal_(const Tensor& t, double mean, double std, Generator& gen = default_generator());
void zeros_(const Tensor& t);
void constant_(const Tensor& t, double value);
// Xavier/Glorot uniform: U(±gain·√(6 / (fan_in + fan_out))) for a (fan_out, fan_in) matrix.
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian
// matrix, signs fixed), times gain; for recurrent weights. A (3H, H) GRU
// weight gets one orthogonal (H, H) block per gate when init'd block by block.
void orthogonal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());

}  // namespace tg::nn::init
