#include "core/creation.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels.h"

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
  kernels::fill(out, value);
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

}  // namespace tg
