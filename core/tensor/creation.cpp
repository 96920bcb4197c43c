#include "core/tensor/creation.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/services/error.h"
#include "core/tensor/compute.h"

namespace tg {

namespace {
// Builds on the host (random draws are made there), then moves to the device.
// `draw(draws)` gives one value; the generator is locked once for the whole fill.
template <typename Draw>
Tensor host_filled(const Shape& shape, TensorOptions options, Generator& gen, Draw draw) {
  if (!is_floating(options.dtype))
    fail("random tensors need a float dtype, got {}", dtype_name(options.dtype));
  Tensor host = Tensor::empty(shape, {options.dtype, Device::cpu()});
  const int64_t n = host.numel();
  {
    Generator::Locked draws = gen.lock();
    if (options.dtype == DType::f32) {
      float* p = host.data<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(draw(draws));
    } else {
      double* p = host.data<double>();
      for (int64_t i = 0; i < n; ++i) p[i] = draw(draws);
    }
  }
  Tensor out = host.to(options.device);
  if (options.requires_grad) out.requires_grad_();
  return out;
}
}  // namespace

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor out = Tensor::empty(shape, {options.dtype, options.device});
  compute::fill(out, value);
  if (options.requires_grad) out.requires_grad_();
  return out;
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }

Tensor arange(Scalar end) { return arange(0, end, 1); }

Tensor arange(Scalar start, Scalar end, Scalar step) {
  const bool integral = start.is_integral() && end.is_integral() && step.is_integral();
  return arange(start, end, step, {integral ? DType::i64 : default_dtype()});
}

Tensor arange(Scalar end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options) {
  if (step.to_double() == 0) fail("arange: step must not be zero");
  if (start.is_integral() && end.is_integral() && step.is_integral()) {  // exact: no rounding of the count
    const int64_t a = start.to_int(), b = end.to_int(), s = step.to_int();
    const int64_t n = s > 0 ? (b > a ? (b - a + s - 1) / s : 0) : (a > b ? (a - b - s - 1) / -s : 0);
    std::vector<int64_t> values(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = a + s * i;
    if (options.dtype == DType::i64) return from_vector(values, Shape{n}, options);
    return from_vector(std::vector<double>(values.begin(), values.end()), Shape{n}, options);
  }
  const double a = start.to_double(), b = end.to_double(), s = step.to_double();
  const auto n = static_cast<int64_t>(std::ceil((b - a) / s));
  std::vector<double> values;
  for (int64_t i = 0; i < std::max<int64_t>(n, 0); ++i) values.push_back(a + s * static_cast<double>(i));
  return from_vector(values, Shape{static_cast<int64_t>(values.size())}, options);
}

Tensor randn(const Shape& shape, TensorOptions options, Generator& gen) {
  return host_filled(shape, options, gen, [](auto& draws) { return draws.normal(); });
}

Tensor normal(const Shape& shape, double mean, double std, TensorOptions options, Generator& gen) {
  return host_filled(shape, options, gen, [&](auto& draws) { return mean + std * draws.normal(); });
}

Tensor uniform(const Shape& shape, double low, double high, TensorOptions options, Generator& gen) {
  if (!(low <= high)) fail("uniform: low {} must not exceed high {}", low, high);
  return host_filled(shape, options, gen, [&](auto& draws) { return low + (high - low) * draws.uniform(); });
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  const Shape resolved = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  if (resolved.numel() != static_cast<int64_t>(values.size()))
    fail("from_vector: {} values do not fill shape {} ({} elements)", values.size(),
         resolved.str(), resolved.numel());
  Tensor host = Tensor::empty(resolved, {dtype_of<T>(), Device::cpu()});
  std::copy(values.begin(), values.end(), host.data<T>());
  Tensor out = host.to(options.dtype).to(options.device);
  if (options.requires_grad) out.requires_grad_();
  return out;
}
template Tensor from_vector(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<int8_t>&, const Shape&, TensorOptions);

Tensor tensor(const std::vector<float>& values, const Shape& shape, bool requires_grad) {
  return from_vector(values, shape, {DType::f32, Device::cpu(), requires_grad});
}
Tensor tensor(const std::vector<double>& values, const Shape& shape, bool requires_grad) {
  return from_vector(values, shape, {DType::f64, Device::cpu(), requires_grad});
}
Tensor tensor(std::initializer_list<float> values, const Shape& shape, bool requires_grad) {
  return tensor(std::vector<float>(values), shape, requires_grad);
}
Tensor tensor(std::initializer_list<double> values, const Shape& shape, bool requires_grad) {
  return from_vector(std::vector<double>(values), shape, {default_dtype(), Device::cpu(), requires_grad});
}
Tensor tensor(std::initializer_list<double> values, const Shape& shape, TensorOptions options) {
  return from_vector(std::vector<double>(values), shape, options);
}
Tensor tensor(const std::vector<int64_t>& values, const Shape& shape) { return index_tensor(values, shape); }
Tensor tensor(std::initializer_list<int> values, const Shape& shape) {
  return index_tensor(std::vector<int64_t>(values.begin(), values.end()), shape);
}
Tensor index_tensor(const std::vector<int64_t>& values, const Shape& shape) {
  return from_vector(values, shape, {DType::i64, Device::cpu(), false});
}

Tensor scalar(double value, TensorOptions options) { return full(Shape{}, value, options); }

Tensor zeros_like(const Tensor& x) { return full_like(x, 0.0); }
Tensor ones_like(const Tensor& x) { return full_like(x, 1.0); }
Tensor full_like(const Tensor& x, double value) {
  check_defined(x, "full_like", "x");
  return full(x.shape(), value, {x.dtype(), x.device()});
}

Tensor empty_like(const Tensor& x) {
  check_defined(x, "empty_like", "x");
  return Tensor::empty(x.shape(), {x.dtype(), x.device()});
}

Tensor rand_like(const Tensor& x, Generator& gen) {
  check_defined(x, "rand_like", "x");
  if (!is_floating(x.dtype())) fail("rand_like: x must have a float dtype, got {}", dtype_name(x.dtype()));
  return uniform(x.shape(), 0.0, 1.0, {x.dtype(), x.device()}, gen);
}

Tensor randn_like(const Tensor& x, Generator& gen) {
  check_defined(x, "randn_like", "x");
  if (!is_floating(x.dtype())) fail("randn_like: x must have a float dtype, got {}", dtype_name(x.dtype()));
  return randn(x.shape(), {x.dtype(), x.device()}, gen);
}

Tensor randint_like(const Tensor& x, int64_t high, Generator& gen) { return randint_like(x, 0, high, gen); }

Tensor randint_like(const Tensor& x, int64_t low, int64_t high, Generator& gen) {
  check_defined(x, "randint_like", "x");
  if (x.dtype() != DType::i64 && !is_floating(x.dtype()))
    fail("randint_like: x must be int64 or a float dtype, got {}", dtype_name(x.dtype()));
  if (low >= high) fail("randint_like: low {} must be below high {}", low, high);
  std::vector<int64_t> values(static_cast<size_t>(x.numel()));
  {
    Generator::Locked draws = gen.lock();
    const auto span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    for (int64_t& v : values) v = low + static_cast<int64_t>(draws.below(span));
  }
  // Built flat, then given x's shape (from_vector reads an empty shape as 1-D).
  Tensor out = from_vector(values, Shape{x.numel()}, {x.dtype(), x.device()});
  out.impl().shape = x.shape();
  out.impl().strides = contiguous_strides(x.shape());
  return out;
}

Tensor eye(int64_t n, TensorOptions options) { return eye(n, n, options); }

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  if (n < 0 || m < 0) fail("eye: sizes must be >= 0, got n = {}, m = {}", n, m);
  std::vector<double> values(static_cast<size_t>(n * m), 0.0);
  for (int64_t i = 0; i < std::min(n, m); ++i) values[static_cast<size_t>(i * m + i)] = 1.0;
  return from_vector(values, Shape{n, m}, options);
}

}  // namespace tg
