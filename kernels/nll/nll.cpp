// The NLL kernels' argument checks, tables and reference bodies (nll.h).
#include "kernels/nll/nll.h"

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

// Both kernels: a contiguous float (N, C) matrix, int64 targets (N) and one
// value per row (N) of the matrix's dtype.
void check_rows(const char* op, const char* matrix_name, const View& matrix, const View& target,
                const char* per_row_name, const View& per_row) {
  checks::rank(op, matrix_name, matrix, 2);
  checks::contiguous(op, matrix_name, matrix);
  checks::floating(op, matrix);
  const int64_t rows = matrix.shape[0];
  checks::shape(op, "target", target, Shape{rows});
  checks::dtype(op, "target", target, DType::i64);
  checks::shape(op, per_row_name, per_row, Shape{rows});
  checks::dtype(op, per_row_name, per_row, matrix.dtype);
}

void check_nll(const NllArgs& a) { check_rows("nll", "logp", a.logp, a.target, "loss", a.loss); }

void check_nll_backward(const NllBackwardArgs& a) {
  check_rows("nll_backward", "dlogp", a.dlogp, a.target, "dloss", a.dloss);
}

// The target values, read where they are in host memory (a device body checks them on the device).
void nll_targets(const NllArgs& a) { checks::targets_in_range("nll", a.target, a.ignore_index, a.logp.shape[1]); }
void nll_backward_targets(const NllBackwardArgs& a) {
  checks::targets_in_range("nll_backward", a.target, a.ignore_index, a.dlogp.shape[1]);
}

void nll_reference(Backend&, const NllArgs& a) {
  const int64_t rows = a.logp.shape[0], classes = a.logp.shape[1];
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
  static KernelTable<NllArgs> table("nll", &check_nll, &nll_reference, &nll_targets);
  return table;
}

KernelTable<NllBackwardArgs>& nll_backward_table() {
  static KernelTable<NllBackwardArgs> table("nll_backward", &check_nll_backward, &nll_backward_reference,
                                                &nll_backward_targets);
  return table;
}

}  // namespace tg::kernels
