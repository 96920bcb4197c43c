#include "nn/init.h"

#include <cmath>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/kernels.h"

namespace tg::nn::init {

namespace {
void assign(const Tensor& t, const Tensor& values) { kernels::copy_into(values, t); }
}  // namespace

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  assign(t, uniform(t.shape(), low, high, {t.dtype(), t.device()}, gen));
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
  assign(t, normal(t.shape(), mean, std, {t.dtype(), t.device()}, gen));
}

void zeros_(const Tensor& t) { kernels::fill(t, 0.0); }
void constant_(const Tensor& t, double value) { kernels::fill(t, value); }

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  if (t.ndim() != 2) fail("xavier_uniform_: needs a matrix (fan_out, fan_in), got {}", t.shape().str());
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(t.size(0) + t.size(1)));
  uniform_(t, -bound, bound, gen);
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

}  // namespace tg::nn::init
