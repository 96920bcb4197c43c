// Layer normalisation's argument checks, tables and reference bodies
// (layer_norm.h): one row at a time, straight from the formulas, in double.
#include "kernels/layer_norm/layer_norm.h"

#include <cmath>
#include <string_view>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

void unit_rows(std::string_view op, std::string_view what, const View& v) {
  if (v.shape.size() == 2 && v.shape[1] > 1 && v.strides[1] != 1)
    fail("{}: {} needs unit-strided rows, got shape {} with strides {}", op, what, v.shape.str(), v.strides.str());
}

void check_vector(std::string_view op, std::string_view what, const View& v, int64_t n, DType dtype) {
  if (v.data == nullptr) return;
  checks::shape(op, what, v, Shape{n});
  checks::dtype(op, what, v, dtype);
}

void check_rows(std::string_view op, const View& x, const View& mean, const View& rstd) {
  checks::rank(op, "x", x, 2);
  checks::floating(op, x);
  unit_rows(op, "x", x);
  check_vector(op, "mean", mean, x.shape[0], x.dtype);
  check_vector(op, "rstd", rstd, x.shape[0], x.dtype);
}

void check_forward(const LayerNormArgs& a) {
  constexpr std::string_view op = "layer_norm";
  check_rows(op, a.x, a.mean, a.rstd);
  const int64_t D = a.x.shape[1];
  check_vector(op, "weight", a.weight, D, a.x.dtype);
  check_vector(op, "bias", a.bias, D, a.x.dtype);
  checks::shape(op, "y", a.y, a.x.shape);
  checks::dtype(op, "y", a.y, a.x.dtype);
  unit_rows(op, "y", a.y);
  if (!(a.eps >= 0)) fail("{}: eps must be >= 0, got {}", op, a.eps);
}

void check_backward(const LayerNormBackwardArgs& a) {
  constexpr std::string_view op = "layer_norm_backward";
  check_rows(op, a.x, a.mean, a.rstd);
  const int64_t D = a.x.shape[1];
  check_vector(op, "weight", a.weight, D, a.x.dtype);
  check_vector(op, "dweight", a.dweight, D, a.x.dtype);
  check_vector(op, "dbias", a.dbias, D, a.x.dtype);
  for (const auto& [v, what] : {std::pair<const View*, const char*>{&a.dy, "dy"}, {&a.dx, "dx"}}) {
    if (v->data == nullptr) continue;
    checks::shape(op, what, *v, a.x.shape);
    checks::dtype(op, what, *v, a.x.dtype);
    unit_rows(op, what, *v);
  }
}

void forward_reference(Backend&, const LayerNormArgs& a) {
  const int64_t R = a.x.shape[0], D = a.x.shape[1];
  visit_float(a.x.dtype, "layer_norm", [&]<typename T>() {
    for (int64_t r = 0; r < R; ++r) {
      double sum = 0, squares = 0;
      for (int64_t d = 0; d < D; ++d) sum += element<T>(a.x, r, d);
      const double mu = sum / D;
      for (int64_t d = 0; d < D; ++d) squares += (element<T>(a.x, r, d) - mu) * (element<T>(a.x, r, d) - mu);
      const double rstd = 1.0 / std::sqrt(squares / D + a.eps);
      element<T>(a.mean, r) = static_cast<T>(mu);
      element<T>(a.rstd, r) = static_cast<T>(rstd);
      for (int64_t d = 0; d < D; ++d) {
        double y = (element<T>(a.x, r, d) - mu) * rstd;
        if (a.weight.data != nullptr) y *= element<T>(a.weight, d);
        if (a.bias.data != nullptr) y += element<T>(a.bias, d);
        element<T>(a.y, r, d) = static_cast<T>(y);
      }
    }
  });
}

void backward_reference(Backend&, const LayerNormBackwardArgs& a) {
  const int64_t R = a.x.shape[0], D = a.x.shape[1];
  visit_float(a.x.dtype, "layer_norm_backward", [&]<typename T>() {
    for (int64_t r = 0; r < R; ++r) {
      const double mu = element<T>(a.mean, r), rstd = element<T>(a.rstd, r);
      auto x_hat = [&](int64_t d) { return (element<T>(a.x, r, d) - mu) * rstd; };
      auto g = [&](int64_t d) {
        return a.weight.data != nullptr ? element<T>(a.dy, r, d) * element<T>(a.weight, d) : element<T>(a.dy, r, d);
      };
      double mean_g = 0, mean_gx = 0;
      for (int64_t d = 0; d < D; ++d) mean_g += g(d), mean_gx += g(d) * x_hat(d);
      mean_g /= D, mean_gx /= D;
      for (int64_t d = 0; d < D; ++d) {
        if (a.dx.data != nullptr) element<T>(a.dx, r, d) = static_cast<T>(rstd * (g(d) - mean_g - x_hat(d) * mean_gx));
        if (a.dweight.data != nullptr) element<T>(a.dweight, d) += static_cast<T>(element<T>(a.dy, r, d) * x_hat(d));
        if (a.dbias.data != nullptr) element<T>(a.dbias, d) += element<T>(a.dy, r, d);
      }
    }
  });
}

}  // namespace

KernelTable<LayerNormArgs>& layer_norm_table() {
  static KernelTable<LayerNormArgs> table("layer_norm", &check_forward, &forward_reference);
  return table;
}

KernelTable<LayerNormBackwardArgs>& layer_norm_backward_table() {
  static KernelTable<LayerNormBackwardArgs> table("layer_norm_backward", &check_backward, &backward_reference);
  return table;
}

}  // namespace tg::kernels
