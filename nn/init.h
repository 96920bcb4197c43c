#pragma once
// Initialisation of parameters in place (not recorded). Each draws from the
// given generator so that a seed reproduces a model.
#include <cstdint>
#include <optional>
#include <utility>

#include "core/services/generator.h"
#include "core/tensor/tensor.h"

namespace tg::nn::init {

// U(low, high)
void uniform_(const Tensor& t, double low, double high, Generator& gen = default_generator());
// N(mean, std²)
void normal_(const Tensor& t, double mean, double std, Generator& gen = default_generator());
void zeros_(const Tensor& t);
void constant_(const Tensor& t, double value);
// A weight's fans, as torch.nn.init._calculate_fan_in_and_fan_out: for a
// (out, in, k...) tensor of rank >= 2 (a matrix, a convolution's weight)
//   fan_in = in · Π k,  fan_out = out · Π k   (Π k: the receptive field, 1 for a matrix)
struct Fans {
  int64_t fan_in = 0;
  int64_t fan_out = 0;
};
Fans calculate_fan_in_and_fan_out(const Tensor& t);

// The nonlinearities of torch.nn.init.calculate_gain (conv1d and friends give linear's 1).
enum class Nonlinearity { linear, sigmoid, tanh, relu, leaky_relu, selu };
// The gain PyTorch recommends after `nonlinearity`: linear, sigmoid 1; tanh 5/3;
// relu √2; leaky_relu √(2 / (1 + slope²)) (slope: param, 0.01 when omitted); selu 3/4.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);

enum class FanMode { fan_in, fan_out };
// kaiming_*'s options, PyTorch's defaults: a = 0, mode fan_in, nonlinearity leaky_relu (gain √2 at a = 0).
struct KaimingOptions {
  double a = 0;  // leaky_relu's negative slope (used by leaky_relu only)
  FanMode mode = FanMode::fan_in;
  Nonlinearity nonlinearity = Nonlinearity::leaky_relu;
};
// He initialisation, as torch.nn.init.kaiming_uniform_ and kaiming_normal_:
// std = gain / √fan (fan: fan_in or fan_out by mode, gain = calculate_gain(nonlinearity, a)),
//   kaiming_uniform_: U(±√3·std)      kaiming_normal_: N(0, std²)
// A tensor with a size-0 dimension is left as it is (PyTorch warns and does the same).
//   init::kaiming_uniform_(w, {.a = std::sqrt(5.0)});   // what nn.Linear's reset_parameters does
void kaiming_uniform_(const Tensor& t, KaimingOptions options = {}, Generator& gen = default_generator());
void kaiming_normal_(const Tensor& t, KaimingOptions options = {}, Generator& gen = default_generator());
// Xavier/Glorot, as torch.nn.init.xavier_uniform_ and xavier_normal_, std = gain·√(2 / (fan_in + fan_out)):
//   xavier_uniform_: U(±√3·std) = U(±gain·√(6 / (fan_in + fan_out)))      xavier_normal_: N(0, std²)
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian
// matrix, signs fixed), times gain; for recurrent weights. A (3H, H) GRU
// weight gets one orthogonal (H, H) block per gate when init'd block by block.
// PyTorch's default for Linear and ConvNd (their reset_parameters): weight
// of `shape` (out, in / groups, kernel...) drawn U(±1/√fan_in), fan_in the
// product of shape[1:], then, when `with_bias`, a bias (out) from the same
// bound (undefined otherwise). The draws in that order. Returns (weight, bias).
std::pair<Tensor, Tensor> layer_default(const Shape& shape, bool with_bias, DType dtype,
                                        Generator& gen = default_generator());
void orthogonal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());

}  // namespace tg::nn::init
