#pragma once
// Making tensors: constant fills, ranges, random draws, and copies of C++ data.
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "core/services/generator.h"
#include "core/types/scalar.h"
#include "core/tensor/tensor.h"

namespace tg {

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
// Of x's shape, dtype and device (no gradient), as torch.zeros_like and friends.
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
Tensor full_like(const Tensor& x, double value);
// Of x's shape, dtype and device, uninitialised, as torch.empty_like.
Tensor empty_like(const Tensor& x);
// Of x's shape, dtype (a float one) and device: uniform draws in [0, 1) and
// standard normal draws, as torch.rand_like and torch.randn_like.
Tensor rand_like(const Tensor& x, Generator& gen = default_generator());
Tensor randn_like(const Tensor& x, Generator& gen = default_generator());
// Of x's shape, dtype (int64 or a float one) and device: integers drawn
// uniformly from [low, high) (low = 0 when omitted), as torch.randint_like.
Tensor randint_like(const Tensor& x, int64_t high, Generator& gen = default_generator());
Tensor randint_like(const Tensor& x, int64_t low, int64_t high, Generator& gen = default_generator());
// The (n, m) matrix with ones on the diagonal, zeros elsewhere (m = n when
// omitted), as torch.eye; float32 unless options say otherwise.
Tensor eye(int64_t n, TensorOptions options = {});
Tensor eye(int64_t n, int64_t m, TensorOptions options = {});
// 0, 1, ..., end-1, and start, start+step, ... below end, as torch.arange:
// int64 when every bound is written as an integer (arange(5)), else the
// default float type, float32 (arange(0.0, 1.0, 0.25)); with TensorOptions,
// its dtype.
Tensor arange(Scalar end);
Tensor arange(Scalar start, Scalar end, Scalar step = 1);
Tensor arange(Scalar end, TensorOptions options);
Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options);
// Standard normal draws (times std, plus mean).
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator& gen = default_generator());
Tensor normal(const Shape& shape, double mean, double std, TensorOptions options = {},
              Generator& gen = default_generator());
// Uniform draws in [low, high).
Tensor uniform(const Shape& shape, double low, double high, TensorOptions options = {},
               Generator& gen = default_generator());

// A tensor holding `values` with `shape` (1-D when omitted; see scalar() for rank 0); the dtype
// follows T unless options say otherwise.
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options);
Tensor tensor(const std::vector<float>& values, const Shape& shape = {}, bool requires_grad = false);
Tensor tensor(const std::vector<double>& values, const Shape& shape = {}, bool requires_grad = false);
// tensor({0.5, 1.5}) has the default float type (float32 unless
// set_default_dtype), as torch.tensor([0.5, 1.5]); tensor({1.f, 2.f}) is
// float32. A std::vector keeps its element type (double: float64), as
// torch.from_numpy does.
Tensor tensor(std::initializer_list<float> values, const Shape& shape = {}, bool requires_grad = false);
Tensor tensor(std::initializer_list<double> values, const Shape& shape = {}, bool requires_grad = false);
// With a dtype (and device, requires_grad), as torch.tensor([...], dtype=torch.float64):
//   tensor({0.5, 1.5}, {2}, {.dtype = DType::f64, .requires_grad = true})
Tensor tensor(std::initializer_list<double> values, const Shape& shape, TensorOptions options);
// tensor({1, 2, 3}) and a vector of int64_t are int64, as torch.tensor([1, 2, 3]).
Tensor tensor(const std::vector<int64_t>& values, const Shape& shape = {});
Tensor tensor(std::initializer_list<int> values, const Shape& shape = {});
// int64 indices (token ids, targets).
Tensor index_tensor(const std::vector<int64_t>& values, const Shape& shape = {});
// A scalar (rank-0) tensor.
Tensor scalar(double value, TensorOptions options = {});

}  // namespace tg
