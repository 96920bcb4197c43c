// Additive attention's argument checks, tables and reference bodies
// (additive_score.h): one (b, s, a) at a time, straight from the formulas.
#include "kernels/additive_score/additive_score.h"

#include <cmath>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

void unit_last_stride(std::string_view op, std::string_view what, const View& v) {
  if (v.shape.size() > 0 && v.shape[v.shape.size() - 1] > 1 && v.strides[v.shape.size() - 1] != 1)
    fail("{}: {} needs a unit stride on its last axis, got shape {} with strides {}", op, what, v.shape.str(),
         v.strides.str());
}

void check_operands(std::string_view op, const View& keys, const View& query, const View& v, const View& score) {
  checks::rank(op, "keys", keys, 3);
  checks::floating(op, keys);
  const int64_t batch = keys.shape[0], source = keys.shape[1], attention = keys.shape[2];
  checks::shape(op, "query", query, Shape{batch, attention});
  checks::shape(op, "v", v, Shape{attention});
  checks::shape(op, "score", score, Shape{batch, source});
  const std::pair<const View*, std::string_view> operands[] = {
      {&keys, "keys"}, {&query, "query"}, {&v, "v"}, {&score, "score"}};
  for (const auto& [operand, what] : operands) {
    checks::dtype(op, what, *operand, keys.dtype);
    unit_last_stride(op, what, *operand);
  }
}

void check_score(const AdditiveScoreArgs& a) { check_operands("additive_score", a.keys, a.query, a.v, a.score); }

void check_score_backward(const AdditiveScoreBackwardArgs& a) {
  constexpr std::string_view op = "additive_score_backward";
  check_operands(op, a.keys, a.query, a.v, a.dscore);
  const std::tuple<const View*, const View*, std::string_view> gradients[] = {
      {&a.dkeys, &a.keys, "dkeys"}, {&a.dquery, &a.query, "dquery"}, {&a.dv, &a.v, "dv"}};
  for (const auto& [gradient, like, what] : gradients) {
    if (gradient->data == nullptr) continue;
    checks::shape(op, what, *gradient, like->shape);
    checks::dtype(op, what, *gradient, a.keys.dtype);
    unit_last_stride(op, what, *gradient);
  }
}

void score_reference(Backend&, const AdditiveScoreArgs& a) {
  const int64_t batch = a.keys.shape[0], source = a.keys.shape[1], attention = a.keys.shape[2];
  visit_float(a.keys.dtype, "additive_score", [&]<typename T>() {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < source; ++s) {
        T sum = 0;
        for (int64_t i = 0; i < attention; ++i)
          sum += element<T>(a.v, i) * std::tanh(element<T>(a.keys, b, s, i) + element<T>(a.query, b, i));
        element<T>(a.score, b, s) = sum;
      }
  });
}

void score_backward_reference(Backend&, const AdditiveScoreBackwardArgs& a) {
  const int64_t batch = a.keys.shape[0], source = a.keys.shape[1], attention = a.keys.shape[2];
  visit_float(a.keys.dtype, "additive_score_backward", [&]<typename T>() {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < source; ++s)
        for (int64_t i = 0; i < attention; ++i) {
          const T t = std::tanh(element<T>(a.keys, b, s, i) + element<T>(a.query, b, i));
          const T g = element<T>(a.dscore, b, s);
          const T dsum = g * element<T>(a.v, i) * (T(1) - t * t);
          if (a.dkeys.data != nullptr) element<T>(a.dkeys, b, s, i) += dsum;
          if (a.dquery.data != nullptr) element<T>(a.dquery, b, i) += dsum;
          if (a.dv.data != nullptr) element<T>(a.dv, i) += g * t;
        }
  });
}

}  // namespace

KernelTable<AdditiveScoreArgs>& additive_score_table() {
  static KernelTable<AdditiveScoreArgs> table("additive_score", &check_score, &score_reference);
  return table;
}

KernelTable<AdditiveScoreBackwardArgs>& additive_score_backward_table() {
  static KernelTable<AdditiveScoreBackwardArgs> table("additive_score_backward", &check_score_backward,
                                                      &score_backward_reference);
  return table;
}

}  // namespace tg::kernels
