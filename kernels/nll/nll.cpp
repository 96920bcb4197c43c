// The NLL kernels' argument checks, tables and reference bodies (nll.h).
#include "kernels/nll/nll.h"

#include "core/dispatch.h"
#include "core/error.h"
#include "core/kernel_checks.h"

namespace tg::kernels {

namespace {

void check_nll(const NllArgs& a) {
  checks::rank("nll", "logp", a.logp, 2);
  checks::contiguous("nll", "logp", a.logp);
  checks::floating("nll", a.logp);
  const int64_t rows = a.logp.shape[0];
  checks::shape("nll", "target", a.target, Shape{rows});
  checks::dtype("nll", "target", a.target, DType::i64);
  checks::shape("nll", "loss", a.loss, Shape{rows});
  checks::dtype("nll", "loss", a.loss, a.logp.dtype);
}

void check_nll_backward(const NllBackwardArgs& a) {
  checks::rank("nll_backward", "dlogp", a.dlogp, 2);
  checks::contiguous("nll_backward", "dlogp", a.dlogp);
  checks::floating("nll_backward", a.dlogp);
  const int64_t rows = a.dlogp.shape[0];
  checks::shape("nll_backward", "target", a.target, Shape{rows});
  checks::dtype("nll_backward", "target", a.target, DType::i64);
  checks::shape("nll_backward", "dloss", a.dloss, Shape{rows});
  checks::dtype("nll_backward", "dloss", a.dloss, a.dlogp.dtype);
}

void nll_reference(Backend&, const NllArgs& a) {
  const int64_t rows = a.logp.shape[0], classes = a.logp.shape[1];
  checks::targets_in_range("nll", a.target, a.ignore_index, classes);
  visit_float(a.logp.dtype, "nll", [&]<typename T>() {
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t t = element<int64_t>(a.target, i);
      double l = 0;
      if (t != a.ignore_index) {
        l = -(1 - a.smoothing) * element<T>(a.logp, i, t);
        if (a.smoothing != 0)
          for (int64_t c = 0; c < classes; ++c) l -= a.smoothing / classes * element<T>(a.logp, i, c);
      }
      element<T>(a.loss, i) = T(l);
    }
  });
}

void nll_backward_reference(Backend&, const NllBackwardArgs& a) {
  const int64_t rows = a.dlogp.shape[0], classes = a.dlogp.shape[1];
  checks::targets_in_range("nll_backward", a.target, a.ignore_index, classes);
  visit_float(a.dlogp.dtype, "nll_backward", [&]<typename T>() {
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t t = element<int64_t>(a.target, i);
      if (t == a.ignore_index) continue;
      for (int64_t c = 0; c < classes; ++c) {
        const double weight = (c == t ? 1 - a.smoothing : 0) + a.smoothing / classes;
        element<T>(a.dlogp, i, c) += T(-element<T>(a.dloss, i) * weight);
      }
    }
  });
}

}  // namespace

KernelTable<NllArgs>& nll_table() {
  static KernelTable<NllArgs> table("nll", &check_nll, &nll_reference);
  return table;
}

KernelTable<NllBackwardArgs>& nll_backward_table() {
  static KernelTable<NllBackwardArgs> table("nll_backward", &check_nll_backward, &nll_backward_reference);
  return table;
}

}  // namespace tg::kernels
