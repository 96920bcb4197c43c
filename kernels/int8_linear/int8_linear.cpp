// The int8 product's quantizers, argument check, table and reference body
// (int8_linear.h): plain loops over the formula, sums in int64.
#include "kernels/int8_linear/int8_linear.h"

#include <algorithm>
#include <limits>
#include <cmath>
#include <vector>

#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

constexpr int64_t kMaxDepth = 65535;  // 65,535 · 255 · 127 < 2³¹: the VNNI body's unsigned sums fit int32

// largest / 127, or 1 for a row of zeros or of values so small that the step underflows (codes 0).
float scale_for(float largest) {
  const float scale = largest / 127.0f;
  return scale > 0 ? scale : 1.0f;
}

int8_t quantize(float value, float scale) {
  return static_cast<int8_t>(std::clamp(std::nearbyint(value / scale), -127.0f, 127.0f));
}

void check_int8_linear(const Int8LinearArgs& a) {
  constexpr std::string_view op = "int8_linear";
  if (a.weight == nullptr) fail("{}: no quantized weight", op);
  const Int8Rows& w = *a.weight;
  checks::rank(op, "x", a.x, 2);
  checks::dtype(op, "x", a.x, DType::f32);
  if (a.x.shape[1] != w.cols)
    fail("{}: x {} against a quantized weight ({}, {}): expected x (M, {})", op, a.x.shape.str(), w.rows, w.cols,
         w.cols);
  if (a.x.shape[1] > 1 && a.x.strides[1] != 1)
    fail("{}: x needs unit-strided rows, got strides {}", op, a.x.strides.str());
  if (a.bias.data != nullptr) {
    checks::shape(op, "bias", a.bias, Shape{w.rows});
    checks::dtype(op, "bias", a.bias, DType::f32);
  }
  checks::shape(op, "y", a.y, Shape{a.x.shape[0], w.rows});
  checks::dtype(op, "y", a.y, DType::f32);
  checks::contiguous(op, "y", a.y);
}

void int8_linear_reference(Backend&, const Int8LinearArgs& a) {
  const Int8Rows& w = *a.weight;
  const int64_t m = a.x.shape[0], n = w.rows, k = w.cols;
  std::vector<int8_t> p(static_cast<size_t>(k));
  for (int64_t i = 0; i < m; ++i) {
    const float t = quantize_row(a.x.as<const float>() + i * a.x.strides[0], k, p.data());
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (int64_t kk = 0; kk < k; ++kk) sum += int64_t{p[kk]} * w.code(j, kk);
      const float scale = t * w.scales[j], total = static_cast<float>(sum);
      a.y.as<float>()[i * n + j] =
          a.bias.data != nullptr ? std::fma(scale, total, a.bias.as<const float>()[j * a.bias.strides[0]]) : scale * total;
    }
  }
}

}  // namespace

float quantize_row(const float* x, int64_t k, int8_t* codes) {
  // The largest magnitude and whether all are finite, a vector at a time (a maximum does not depend on the
  // order): a decoding step quantizes every row of every int8 product's input.
  float largest = 0;
  bool finite = true;
#pragma omp simd reduction(max : largest) reduction(&& : finite)
  for (int64_t kk = 0; kk < k; ++kk) {
    const float magnitude = std::abs(x[kk]);
    largest = magnitude > largest ? magnitude : largest;
    finite = finite && magnitude <= std::numeric_limits<float>::max();  // false for inf and NaN
  }
  if (!finite) {  // the row's outputs come out NaN rather than quietly wrong
    std::fill_n(codes, k, int8_t{0});
    return NAN;
  }
  const float scale = scale_for(largest);
  for (int64_t kk = 0; kk < k; ++kk) codes[kk] = quantize(x[kk], scale);
  return scale;
}

Int8Rows quantize_rows(const View& weight) {
  constexpr std::string_view op = "quantize_rows";
  checks::rank(op, "weight", weight, 2);
  checks::dtype(op, "weight", weight, DType::f32);
  Int8Rows w;
  w.rows = weight.shape[0];
  w.cols = weight.shape[1];
  if (w.cols > kMaxDepth) fail("{}: at most {} columns (int32 sums), got weight {}", op, kMaxDepth, weight.shape.str());
  const int64_t panels = (w.rows + Int8Rows::kPanel - 1) / Int8Rows::kPanel;
  w.codes.assign(static_cast<size_t>(panels * w.quads() * Int8Rows::kPanel * Int8Rows::kQuad), 0);
  w.scales.resize(static_cast<size_t>(w.rows));
  w.sums.resize(static_cast<size_t>(w.rows));
  std::vector<float> row(static_cast<size_t>(w.cols));  // W's row j, unit-strided for quantize_row
  std::vector<int8_t> q(static_cast<size_t>(w.cols));
  for (int64_t j = 0; j < w.rows; ++j) {
    for (int64_t k = 0; k < w.cols; ++k) {
      row[k] = weight.as<const float>()[j * weight.strides[0] + k * weight.strides[1]];
      if (!std::isfinite(row[k])) fail("{}: weight[{}, {}] is {}: only finite weights can be quantized", op, j, k, row[k]);
    }
    w.scales[j] = quantize_row(row.data(), w.cols, q.data());
    int32_t sum = 0;
    for (int64_t k = 0; k < w.cols; ++k) {
      w.codes[w.index(j, k)] = q[k];
      sum += q[k];
    }
    w.sums[j] = sum;
  }
  return w;
}

Int8Rows select_rows(const Int8Rows& weight, const std::vector<int64_t>& ids) {
  Int8Rows w;
  w.rows = static_cast<int64_t>(ids.size());
  w.cols = weight.cols;
  const int64_t panels = (w.rows + Int8Rows::kPanel - 1) / Int8Rows::kPanel;
  w.codes.assign(static_cast<size_t>(panels * w.quads() * Int8Rows::kPanel * Int8Rows::kQuad), 0);
  w.scales.resize(ids.size());
  w.sums.resize(ids.size());
  for (int64_t j = 0; j < w.rows; ++j) {
    const int64_t from = ids[static_cast<size_t>(j)];
    if (from < 0 || from >= weight.rows)
      fail("select_rows: row {} is outside the weight's {} rows (ids[{}])", from, weight.rows, j);
    for (int64_t k = 0; k < w.cols; ++k) w.codes[w.index(j, k)] = weight.code(from, k);
    w.scales[j] = weight.scales[from];
    w.sums[j] = weight.sums[from];
  }
  return w;
}

KernelTable<Int8LinearArgs>& int8_linear_table() {
  static KernelTable<Int8LinearArgs> table("int8_linear", &check_int8_linear, &int8_linear_reference);
  return table;
}

}  // namespace tg::kernels
