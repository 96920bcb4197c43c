// Batch normalisation's argument checks, tables and reference bodies
// (batch_norm.h): one channel at a time, straight from the formulas, in double.
#include "kernels/batch_norm/batch_norm.h"

#include <cmath>
#include <string_view>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

void check_vector(std::string_view op, std::string_view what, const View& v, int64_t C, DType dtype) {
  if (v.data == nullptr) return;
  checks::shape(op, what, v, Shape{C});
  checks::dtype(op, what, v, dtype);
}

void check_block(std::string_view op, std::string_view what, const View& v, const View& x) {
  if (v.data == nullptr) return;
  checks::shape(op, what, v, x.shape);
  checks::dtype(op, what, v, x.dtype);
  checks::contiguous(op, what, v);
}

void check_x(std::string_view op, const View& x) {
  checks::rank(op, "x", x, 3);
  checks::floating(op, x);
  checks::contiguous(op, "x", x);
}

void check_forward(const BatchNormArgs& a) {
  constexpr std::string_view op = "batch_norm";
  check_x(op, a.x);
  const int64_t C = a.x.shape[1];
  for (const auto& [v, what] : {std::pair<const View*, const char*>{&a.weight, "weight"}, {&a.bias, "bias"},
                                {&a.running_mean, "running_mean"}, {&a.running_var, "running_var"},
                                {&a.mean, "mean"}, {&a.rstd, "rstd"}})
    check_vector(op, what, *v, C, a.x.dtype);
  check_block(op, "y", a.y, a.x);
  if (a.mean.data == nullptr || a.rstd.data == nullptr || a.y.data == nullptr)
    fail("{}: y, mean and rstd are outputs and must be given", op);
  if (!a.training && (a.running_mean.data == nullptr || a.running_var.data == nullptr))
    fail("{}: evaluation needs running_mean and running_var", op);
  if ((a.running_mean.data == nullptr) != (a.running_var.data == nullptr))
    fail("{}: running_mean and running_var come together", op);
  if (a.training && a.x.shape[0] * a.x.shape[2] < 2)
    fail("{}: training needs more than one value per channel, got x {}", op, a.x.shape.str());
  if (!(a.eps >= 0)) fail("{}: eps must be >= 0, got {}", op, a.eps);
}

void check_backward(const BatchNormBackwardArgs& a) {
  constexpr std::string_view op = "batch_norm_backward";
  check_x(op, a.x);
  const int64_t C = a.x.shape[1];
  for (const auto& [v, what] : {std::pair<const View*, const char*>{&a.weight, "weight"}, {&a.mean, "mean"},
                                {&a.rstd, "rstd"}, {&a.dweight, "dweight"}, {&a.dbias, "dbias"}})
    check_vector(op, what, *v, C, a.x.dtype);
  check_block(op, "dy", a.dy, a.x);
  check_block(op, "dx", a.dx, a.x);
}

void forward_reference(Backend&, const BatchNormArgs& a) {
  const int64_t B = a.x.shape[0], C = a.x.shape[1], L = a.x.shape[2];
  const double n = static_cast<double>(B * L);
  visit_float(a.x.dtype, "batch_norm", [&]<typename T>() {
    for (int64_t c = 0; c < C; ++c) {
      double mu = 0, var = 0;
      if (a.training) {
        for (int64_t b = 0; b < B; ++b)
          for (int64_t l = 0; l < L; ++l) mu += element<T>(a.x, b, c, l);
        mu /= n;
        for (int64_t b = 0; b < B; ++b)
          for (int64_t l = 0; l < L; ++l) var += (element<T>(a.x, b, c, l) - mu) * (element<T>(a.x, b, c, l) - mu);
        var /= n;
        if (a.running_mean.data != nullptr) {
          T& rm = element<T>(a.running_mean, c);
          T& rv = element<T>(a.running_var, c);
          rm = static_cast<T>((1 - a.momentum) * rm + a.momentum * mu);
          rv = static_cast<T>((1 - a.momentum) * rv + a.momentum * var * n / (n - 1));
        }
      } else {
        mu = element<T>(a.running_mean, c);
        var = element<T>(a.running_var, c);
      }
      const double rstd = 1.0 / std::sqrt(var + a.eps);
      element<T>(a.mean, c) = static_cast<T>(mu);
      element<T>(a.rstd, c) = static_cast<T>(rstd);
      const double w = a.weight.data != nullptr ? double(element<T>(a.weight, c)) : 1.0;
      const double shift = a.bias.data != nullptr ? double(element<T>(a.bias, c)) : 0.0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t l = 0; l < L; ++l)
          element<T>(a.y, b, c, l) = static_cast<T>((element<T>(a.x, b, c, l) - mu) * rstd * w + shift);
    }
  });
}

void backward_reference(Backend&, const BatchNormBackwardArgs& a) {
  const int64_t B = a.x.shape[0], C = a.x.shape[1], L = a.x.shape[2];
  const double n = static_cast<double>(B * L);
  visit_float(a.x.dtype, "batch_norm_backward", [&]<typename T>() {
    for (int64_t c = 0; c < C; ++c) {
      const double mu = element<T>(a.mean, c), rstd = element<T>(a.rstd, c);
      const double w = a.weight.data != nullptr ? double(element<T>(a.weight, c)) : 1.0;
      double sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t l = 0; l < L; ++l) {
          const double dy = element<T>(a.dy, b, c, l);
          sum_dy += dy;
          sum_dy_xhat += dy * (element<T>(a.x, b, c, l) - mu) * rstd;
        }
      if (a.dweight.data != nullptr) element<T>(a.dweight, c) += static_cast<T>(sum_dy_xhat);
      if (a.dbias.data != nullptr) element<T>(a.dbias, c) += static_cast<T>(sum_dy);
      if (a.dx.data == nullptr) continue;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t l = 0; l < L; ++l) {
          const double dy = element<T>(a.dy, b, c, l);
          const double x_hat = (element<T>(a.x, b, c, l) - mu) * rstd;
          const double g = a.training ? dy - sum_dy / n - x_hat * sum_dy_xhat / n : dy;
          element<T>(a.dx, b, c, l) += static_cast<T>(w * rstd * g);
        }
    }
  });
}

}  // namespace

KernelTable<BatchNormArgs>& batch_norm_table() {
  static KernelTable<BatchNormArgs> table("batch_norm", &check_forward, &forward_reference);
  return table;
}

KernelTable<BatchNormBackwardArgs>& batch_norm_backward_table() {
  static KernelTable<BatchNormBackwardArgs> table("batch_norm_backward", &check_backward, &backward_reference);
  return table;
}

}  // namespace tg::kernels
