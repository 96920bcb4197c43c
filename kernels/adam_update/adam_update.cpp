// Adam's argument check, table and reference body (adam.h): element by
// element, in order.
#include "kernels/adam_update/adam_update.h"

#include <cmath>
#include <string_view>
#include <utility>

#include "core/types/visit_dtype.h"
#include "core/dispatch/kernel_checks.h"
#include "kernels/adam_update/adam_element.h"

namespace tg::kernels {

namespace {

void check_adam(const AdamArgs& a) {
  constexpr std::string_view op = "adam_update";
  checks::floating(op, a.param);
  checks::contiguous(op, "param", a.param);
  const std::pair<const View*, std::string_view> others[] = {
      {&a.grad, "grad"}, {&a.exp_avg, "exp_avg"}, {&a.exp_avg_sq, "exp_avg_sq"}, {&a.max_exp_avg_sq, "max_exp_avg_sq"}};
  for (const auto& [v, what] : others) {
    if (v == &a.max_exp_avg_sq && v->data == nullptr) continue;
    checks::shape(op, what, *v, a.param.shape);
    checks::dtype(op, what, *v, a.param.dtype);
    checks::contiguous(op, what, *v);
  }
}

struct StdMath {
  template <class T> static T sqrt(T x) { return std::sqrt(x); }
};

template <bool amsgrad, typename T>
TG_NO_FP_CONTRACT void adam_loop(T* p, const T* g, T* m, T* v, T* v_max, int64_t n, const adam::Coefficients<T>& c) {
  for (int64_t i = 0; i < n; ++i) adam::element<amsgrad, StdMath>(p[i], g[i], m[i], v[i], amsgrad ? v_max[i] : v[i], c);
}

void adam_reference(Backend&, const AdamArgs& a) {
  const int64_t n = a.param.numel();
  visit_float(a.param.dtype, "adam_update", [&]<typename T>() {
    const adam::Coefficients<T> c = adam::coefficients<T>(a.step);
    if (a.max_exp_avg_sq.data != nullptr)
      adam_loop<true>(a.param.as<T>(), a.grad.as<const T>(), a.exp_avg.as<T>(), a.exp_avg_sq.as<T>(),
                      a.max_exp_avg_sq.as<T>(), n, c);
    else
      adam_loop<false>(a.param.as<T>(), a.grad.as<const T>(), a.exp_avg.as<T>(), a.exp_avg_sq.as<T>(),
                       static_cast<T*>(nullptr), n, c);
  });
}

}  // namespace

KernelTable<AdamArgs>& adam_update_table() {
  static KernelTable<AdamArgs> table("adam_update", &check_adam, &adam_reference);
  return table;
}

}  // namespace tg::kernels
