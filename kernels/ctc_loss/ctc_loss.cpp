// CTC's argument check, table and reference body (ctc_loss.h): one sequence
// after another through ctc_recursion.h.
#include "kernels/ctc_loss/ctc_loss.h"

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"
#include "kernels/ctc_loss/ctc_recursion.h"

namespace tg::kernels {

namespace {

void check_ctc(const CtcLossArgs& a) {
  constexpr std::string_view op = "ctc_loss";
  checks::rank(op, "log_probs", a.log_probs, 3);
  checks::floating(op, a.log_probs);
  checks::contiguous(op, "log_probs", a.log_probs);
  const int64_t batch = a.log_probs.shape[1], classes = a.log_probs.shape[2];
  checks::rank(op, "targets", a.targets, 2);
  checks::dtype(op, "targets", a.targets, DType::i64);
  checks::contiguous(op, "targets", a.targets);
  if (a.targets.shape[0] != batch) fail("ctc_loss: targets {} for a batch of {}", a.targets.shape.str(), batch);
  for (const View* lengths : {&a.input_lengths, &a.target_lengths}) {
    checks::shape(op, "a lengths operand", *lengths, Shape{batch});
    checks::dtype(op, "a lengths operand", *lengths, DType::i64);
  }
  checks::shape(op, "loss", a.loss, Shape{batch});
  checks::dtype(op, "loss", a.loss, a.log_probs.dtype);
  if (a.grad.data != nullptr) {
    checks::shape(op, "grad", a.grad, a.log_probs.shape);
    checks::dtype(op, "grad", a.grad, a.log_probs.dtype);
  }
  if (a.blank < 0 || a.blank >= classes) fail("ctc_loss: blank {} is not a class of {}", a.blank, classes);
}

void ctc_reference(Backend&, const CtcLossArgs& a) {
  const View* grad = a.grad.data != nullptr ? &a.grad : nullptr;
  visit_float(a.log_probs.dtype, "ctc_loss", [&]<typename T>() {
    for (int64_t b = 0; b < a.log_probs.shape[1]; ++b)
      ctc::ctc_batch_item<T>(a.log_probs, a.targets, a.input_lengths, a.target_lengths, a.blank, a.loss, grad, b);
  });
}

}  // namespace

KernelTable<CtcLossArgs>& ctc_loss_table() {
  static KernelTable<CtcLossArgs> table("ctc_loss", &check_ctc, &ctc_reference);
  return table;
}

}  // namespace tg::kernels
