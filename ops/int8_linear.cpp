#include "ops/int8_linear.h"

#include <fmt/format.h>

#include <cmath>

#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "core/tensor/compute.h"
#include "core/services/profiler.h"
#include "ops/index_select.h"
#include "ops/reshape.h"

namespace tg {

namespace {
void check_host_float32(const Tensor& t, const char* what) {
  if (!t.device().is_host() || t.dtype() != DType::f32)
    fail("Int8Linear: {} must be a float32 host tensor, got {} on {}", what, dtype_name(t.dtype()), t.device().str());
}
}  // namespace

Int8Grid quantize_to_grid(const Tensor& weight) {
  if (weight.dtype() != DType::f32 || weight.ndim() != 2)
    fail("quantize_to_grid: expected a float32 matrix (N, K), got {} {}", dtype_name(weight.dtype()),
         weight.shape().str());
  const Tensor w = contiguous_values(weight.detach().to(Device::cpu()));
  const int64_t n = w.size(0), k = w.size(1);
  Int8Grid grid{Tensor::empty(w.shape(), {DType::i8}), Tensor::empty(Shape{n}, {DType::f32})};
  const float* values = w.data<float>("quantize_to_grid");
  int8_t* codes = grid.codes.data<int8_t>("quantize_to_grid");
  float* scales = grid.scales.data<float>("quantize_to_grid");
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t c = 0; c < k; ++c)
      if (!std::isfinite(values[j * k + c]))
        fail("quantize_to_grid: weight[{}, {}] is {}: only finite weights can be quantized", j, c, values[j * k + c]);
    scales[j] = kernels::quantize_row(values + j * k, k, codes + j * k);
  }
  return grid;
}

Tensor dequantize(const Int8Grid& grid, const std::string& what) {
  const Tensor& codes = grid.codes;
  const Tensor& scales = grid.scales;
  if (!codes.defined() || codes.dtype() != DType::i8 || codes.ndim() != 2)
    fail("{}: expected int8 codes (N, K), got {}", what,
         codes.defined() ? fmt::format("{} {}", dtype_name(codes.dtype()), codes.shape().str()) : "none");
  if (!scales.defined() || scales.dtype() != DType::f32 || scales.shape() != Shape{codes.size(0)})
    fail("{}: expected float32 scales ({}) for codes {}, got {}", what, codes.size(0), codes.shape().str(),
         scales.defined() ? fmt::format("{} {}", dtype_name(scales.dtype()), scales.shape().str()) : "none");
  const Tensor q = contiguous_values(codes.to(Device::cpu())), s = contiguous_values(scales.to(Device::cpu()));
  const int64_t n = q.size(0), k = q.size(1);
  const int8_t* code = q.data<int8_t>("dequantize");
  const float* scale = s.data<float>("dequantize");
  Tensor w = Tensor::empty(q.shape(), {DType::f32});
  float* out = w.data<float>("dequantize");
  for (int64_t j = 0; j < n; ++j) {
    if (!std::isfinite(scale[j]) || !(scale[j] > 0)) fail("{}: scale {} is {}, expected a finite positive number", what, j, scale[j]);
    for (int64_t c = 0; c < k; ++c) {
      if (code[j * k + c] == -128) fail("{}: code [{}, {}] is -128, expected [-127, 127]", what, j, c);
      out[j * k + c] = static_cast<float>(code[j * k + c]) * scale[j];
    }
  }
  return w;
}

Int8Linear Int8Linear::quantize(const Tensor& weight, const Tensor& bias) {
  check_host_float32(weight, "the weight");
  if (weight.ndim() != 2) fail("Int8Linear: the weight must be (out, in), got {}", weight.shape().str());
  Int8Linear layer;
  layer.weight_ = std::make_shared<const kernels::Int8Rows>(kernels::quantize_rows(weight.view()));
  if (bias.defined()) {
    check_host_float32(bias, "the bias");
    if (bias.shape() != Shape{weight.size(0)})
      fail("Int8Linear: the bias must be ({}) for a weight {}, got {}", weight.size(0), weight.shape().str(),
           bias.shape().str());
    layer.bias_ = contiguous_values(bias.detach());
  }
  return layer;
}

Int8Linear Int8Linear::rows(const Tensor& ids) const {
  if (!defined()) fail("Int8Linear: rows of a layer not quantized (make one with Int8Linear::quantize)");
  if (ids.ndim() != 1 || ids.dtype() != DType::i64)
    fail("Int8Linear: rows takes int64 ids (U), got {} {}", dtype_name(ids.dtype()), ids.shape().str());
  Int8Linear layer;
  layer.weight_ = std::make_shared<const kernels::Int8Rows>(kernels::select_rows(*weight_, ids.to_vector<int64_t>()));
  if (bias_.defined()) layer.bias_ = index_select(bias_, 0, ids.to(bias_.device()));
  return layer;
}

Tensor Int8Linear::operator()(const Tensor& x_in) const {
  const ProfileScope profile("int8_linear");
  if (!defined()) fail("Int8Linear: not quantized (make one with Int8Linear::quantize)");
  check_host_float32(x_in, "x");
  if (grad_enabled() && x_in.requires_grad())
    fail("Int8Linear: no gradient through int8 products (they are for inference): call it under tg::NoGrad or "
         "with an x that does not require grad");
  const int64_t K = in_features(), N = out_features();
  if (x_in.ndim() == 0 || x_in.size(-1) != K)
    fail("Int8Linear: x {} against a weight ({}, {}): expected x (..., {})", x_in.shape().str(), N, K, K);
  const Tensor x = contiguous_values(reshape(x_in, Shape{-1, K}));  // (M, K)
  Tensor y = compute::empty_like(x, Shape{x.size(0), N});
  kernels::int8_linear(backend_for(x.device()),
                       {x.view(), weight_.get(), bias_.defined() ? bias_.view() : View{}, y.view()});
  Shape shape = x_in.shape();
  shape[shape.size() - 1] = N;
  return reshape(y, shape);
}

}  // namespace tg
