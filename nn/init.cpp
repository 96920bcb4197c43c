#include "nn/init.h"

#include <cmath>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"

namespace tg::nn::init {

namespace {
void assign(const Tensor& t, const Tensor& values) { compute::copy_into(values, t); }
}  // namespace

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  assign(t, uniform(t.shape(), low, high, {t.dtype(), t.device()}, gen));
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
  assign(t, normal(t.shape(), mean, std, {t.dtype(), t.device()}, gen));
}

void zeros_(const Tensor& t) { compute::fill(t, 0.0); }
void constant_(const Tensor& t, double value) { compute::fill(t, value); }

Fans calculate_fan_in_and_fan_out(const Tensor& t) {
  check_defined(t, "calculate_fan_in_and_fan_out", "t");
  if (t.ndim() < 2)
    fail("calculate_fan_in_and_fan_out: fans need a tensor of at least 2 dimensions (out, in, ...), got {}",
         t.shape().str());
  int64_t receptive = 1;
  for (int d = 2; d < t.ndim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case Nonlinearity::linear:
    case Nonlinearity::sigmoid: return 1.0;
    case Nonlinearity::tanh: return 5.0 / 3.0;
    case Nonlinearity::relu: return std::sqrt(2.0);
    case Nonlinearity::leaky_relu: {
      const double slope = param.value_or(0.01);
      return std::sqrt(2.0 / (1 + slope * slope));
    }
    case Nonlinearity::selu: return 3.0 / 4.0;
  }
  fail("calculate_gain: unknown nonlinearity {}", static_cast<int>(nonlinearity));
}

namespace {
// std = gain / √fan, or 0 for a tensor with no elements (left alone by the callers).
double kaiming_std(const Tensor& t, const KaimingOptions& options, const char* op) {
  if (t.ndim() < 2) fail("{}: needs a tensor of at least 2 dimensions (out, in, ...), got {}", op, t.shape().str());
  const Fans fans = calculate_fan_in_and_fan_out(t);
  const int64_t fan = options.mode == FanMode::fan_in ? fans.fan_in : fans.fan_out;
  return calculate_gain(options.nonlinearity, options.a) / std::sqrt(static_cast<double>(fan));
}
double xavier_std(const Tensor& t, double gain, const char* op) {
  if (t.ndim() < 2) fail("{}: needs a tensor of at least 2 dimensions (out, in, ...), got {}", op, t.shape().str());
  const Fans fans = calculate_fan_in_and_fan_out(t);
  return gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
}
}  // namespace

void kaiming_uniform_(const Tensor& t, KaimingOptions options, Generator& gen) {
  const double std = kaiming_std(t, options, "kaiming_uniform_");
  if (t.numel() == 0) return;
  uniform_(t, -std::sqrt(3.0) * std, std::sqrt(3.0) * std, gen);
}

void kaiming_normal_(const Tensor& t, KaimingOptions options, Generator& gen) {
  const double std = kaiming_std(t, options, "kaiming_normal_");
  if (t.numel() == 0) return;
  normal_(t, 0.0, std, gen);
}

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  const double bound = std::sqrt(3.0) * xavier_std(t, gain, "xavier_uniform_");
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) {
  normal_(t, 0.0, xavier_std(t, gain, "xavier_normal_"), gen);
}

void orthogonal_(const Tensor& t, double gain, Generator& gen) {
  if (t.ndim() != 2) fail("orthogonal_: needs a matrix, got {}", t.shape().str());
  const int64_t rows = t.size(0), cols = t.size(1);
  // Gram-Schmidt on the longer side's vectors: q has orthonormal columns (n, k), n >= k.
  const bool tall = rows >= cols;
  const int64_t n = tall ? rows : cols, k = tall ? cols : rows;
  std::vector<double> q(n * k);  // column j at q[j*n .. j*n+n)
  {
    Generator::Locked draws = gen.lock();
    for (double& v : q) v = draws.normal();
  }
  for (int64_t j = 0; j < k; ++j) {
    double* qj = &q[j * n];
    for (int pass = 0; pass < 2; ++pass)  // twice: classical Gram-Schmidt loses orthogonality once
      for (int64_t i = 0; i < j; ++i) {
        const double* qi = &q[i * n];
        double dot = 0;
        for (int64_t r = 0; r < n; ++r) dot += qi[r] * qj[r];
        for (int64_t r = 0; r < n; ++r) qj[r] -= dot * qi[r];
      }
    double norm = 0;
    for (int64_t r = 0; r < n; ++r) norm += qj[r] * qj[r];
    norm = std::sqrt(norm);
    for (int64_t r = 0; r < n; ++r) qj[r] /= norm;
  }
  std::vector<double> values(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) values[r * cols + c] = gain * (tall ? q[c * n + r] : q[r * n + c]);
  assign(t, from_vector(values, t.shape(), {DType::f64, t.device()}));
}

std::pair<Tensor, Tensor> layer_default(const Shape& shape, bool with_bias, DType dtype, Generator& gen) {
  int64_t fan_in = 1;
  for (int d = 1; d < shape.size(); ++d) fan_in *= shape[d];
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  Tensor weight = Tensor::empty(shape, {dtype}), bias;
  uniform_(weight, -bound, bound, gen);
  if (with_bias) {
    bias = Tensor::empty({shape[0]}, {dtype});
    uniform_(bias, -bound, bound, gen);
  }
  return {weight, bias};
}

}  // namespace tg::nn::init
