// Dot-product attention's argument checks, tables and reference bodies
// (dot_attention.h): one query row at a time, in double, from the formulas.
#include "kernels/dot_attention/dot_attention.h"

#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"
#include "core/dispatch/random_bits.h"

namespace tg::kernels {

namespace {

void unit_last(std::string_view op, std::string_view what, const View& v) {
  const size_t r = v.shape.size();
  if (r > 0 && v.shape[r - 1] > 1 && v.strides[r - 1] != 1)
    fail("{}: {} needs a unit stride on its last axis, got shape {} with strides {}", op, what, v.shape.str(),
         v.strides.str());
}

void check_operand(std::string_view op, std::string_view what, const View& v, const Shape& shape, DType dtype) {
  checks::shape(op, what, v, shape);
  checks::dtype(op, what, v, dtype);
  unit_last(op, what, v);
}

void check_forward_args(std::string_view op, const DotAttentionArgs& a) {
  checks::rank(op, "q", a.q, 3);
  checks::floating(op, a.q);
  const int64_t B = a.q.shape[0], L = a.q.shape[1], D = a.q.shape[2];
  checks::rank(op, "k", a.k, 3);
  checks::rank(op, "v", a.v, 3);
  const int64_t S = a.k.shape[1], Dv = a.v.shape[2];
  check_operand(op, "q", a.q, Shape{B, L, D}, a.q.dtype);
  check_operand(op, "k", a.k, Shape{B, S, D}, a.q.dtype);
  check_operand(op, "v", a.v, Shape{B, S, Dv}, a.q.dtype);
  check_operand(op, "out", a.out, Shape{B, L, Dv}, a.q.dtype);
  check_operand(op, "lse", a.lse, Shape{B, L}, a.q.dtype);
  if (a.heads <= 0 || B % a.heads != 0) fail("{}: heads {} must divide the batch {}", op, a.heads, B);
  if (a.bias.data != nullptr) {
    checks::rank(op, "bias", a.bias, 3);
    const int64_t rows = a.bias.shape[0];
    check_operand(op, "bias", a.bias, Shape{rows == 1 ? 1 : B, L, S}, a.q.dtype);
  }
  if (a.key_bias.data != nullptr) check_operand(op, "key_bias", a.key_bias, Shape{B / a.heads, S}, a.q.dtype);
  if (!(a.dropout >= 0 && a.dropout < 1)) fail("{}: dropout must be in [0, 1), got {}", op, a.dropout);
}

void check_forward(const DotAttentionArgs& a) { check_forward_args("dot_attention", a); }

void check_backward(const DotAttentionBackwardArgs& a) {
  constexpr std::string_view op = "dot_attention_backward";
  check_forward_args(op, a.forward);
  const View &q = a.forward.q, &k = a.forward.k, &v = a.forward.v;
  check_operand(op, "dout", a.dout, a.forward.out.shape, q.dtype);
  if (a.dq.data != nullptr) check_operand(op, "dq", a.dq, q.shape, q.dtype);
  if (a.dk.data != nullptr) check_operand(op, "dk", a.dk, k.shape, q.dtype);
  if (a.dv.data != nullptr) check_operand(op, "dv", a.dv, v.shape, q.dtype);
}

// s_bij of dot_attention.h in double (−∞ where masked).
template <typename T>
double score(const DotAttentionArgs& a, int64_t b, int64_t i, int64_t j) {
  if (a.causal && j > i) return -std::numeric_limits<double>::infinity();
  double s = 0;
  for (int64_t d = 0; d < a.q.shape[2]; ++d) s += double(element<T>(a.q, b, i, d)) * element<T>(a.k, b, j, d);
  s *= a.scale;
  if (a.bias.data != nullptr) s += element<T>(a.bias, a.bias.shape[0] == 1 ? 0 : b, i, j);
  if (a.key_bias.data != nullptr) s += element<T>(a.key_bias, b / a.heads, j);
  return s;
}

double keep_factor(const DotAttentionArgs& a, int64_t b, int64_t i, int64_t j) {
  if (a.dropout == 0) return 1;
  const int64_t L = a.q.shape[1], S = a.k.shape[1];
  return random_bits::dropout_scale(a.dropout_key, static_cast<uint64_t>((b * L + i) * S + j), 1 - a.dropout,
                                    1 / (1 - a.dropout));
}

void forward_reference(Backend&, const DotAttentionArgs& a) {
  const int64_t B = a.q.shape[0], L = a.q.shape[1], S = a.k.shape[1], Dv = a.v.shape[2];
  visit_float(a.q.dtype, "dot_attention", [&]<typename T>() {
    std::vector<double> s(static_cast<size_t>(S)), o(static_cast<size_t>(Dv));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < L; ++i) {
        double top = -std::numeric_limits<double>::infinity(), sum = 0;
        for (int64_t j = 0; j < S; ++j) top = std::max(top, s[j] = score<T>(a, b, i, j));
        for (int64_t j = 0; j < S; ++j) sum += std::exp(s[j] - top);
        const double lse = top + std::log(sum);
        std::fill(o.begin(), o.end(), 0.0);
        for (int64_t j = 0; j < S; ++j) {
          const double p = std::exp(s[j] - lse) * keep_factor(a, b, i, j);
          for (int64_t d = 0; d < Dv; ++d) o[d] += p * element<T>(a.v, b, j, d);
        }
        for (int64_t d = 0; d < Dv; ++d) element<T>(a.out, b, i, d) = static_cast<T>(o[d]);
        element<T>(a.lse, b, i) = static_cast<T>(lse);
      }
  });
}

void backward_reference(Backend&, const DotAttentionBackwardArgs& g) {
  const DotAttentionArgs& a = g.forward;
  const int64_t B = a.q.shape[0], L = a.q.shape[1], S = a.k.shape[1], D = a.q.shape[2], Dv = a.v.shape[2];
  visit_float(a.q.dtype, "dot_attention_backward", [&]<typename T>() {
    std::vector<double> dq(static_cast<size_t>(D));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < L; ++i) {
        double D_i = 0;
        for (int64_t d = 0; d < Dv; ++d) D_i += double(element<T>(g.dout, b, i, d)) * element<T>(a.out, b, i, d);
        std::fill(dq.begin(), dq.end(), 0.0);
        for (int64_t j = 0; j < S; ++j) {
          const double p = std::exp(score<T>(a, b, i, j) - double(element<T>(a.lse, b, i)));
          const double m = keep_factor(a, b, i, j);
          double dp = 0;
          for (int64_t d = 0; d < Dv; ++d) dp += double(element<T>(g.dout, b, i, d)) * element<T>(a.v, b, j, d);
          const double ds = p * (m * dp - D_i);
          if (g.dv.data != nullptr)
            for (int64_t d = 0; d < Dv; ++d) element<T>(g.dv, b, j, d) += static_cast<T>(p * m * element<T>(g.dout, b, i, d));
          for (int64_t d = 0; d < D; ++d) dq[d] += a.scale * ds * element<T>(a.k, b, j, d);
          if (g.dk.data != nullptr)
            for (int64_t d = 0; d < D; ++d) element<T>(g.dk, b, j, d) += static_cast<T>(a.scale * ds * element<T>(a.q, b, i, d));
        }
        if (g.dq.data != nullptr)
          for (int64_t d = 0; d < D; ++d) element<T>(g.dq, b, i, d) = static_cast<T>(dq[d]);
      }
  });
}

}  // namespace

KernelTable<DotAttentionArgs>& dot_attention_table() {
  static KernelTable<DotAttentionArgs> table("dot_attention", &check_forward, &forward_reference);
  return table;
}

KernelTable<DotAttentionBackwardArgs>& dot_attention_backward_table() {
  static KernelTable<DotAttentionBackwardArgs> table("dot_attention_backward", &check_backward, &backward_reference);
  return table;
}

}  // namespace tg::kernels
