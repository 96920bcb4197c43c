// The cpu backend's CTC loss: the recursion of ctc_recursion.h, one sequence
// per task, the batch split over the thread pool (each sequence writes only
// its own loss and gradient column, so any split gives the same result).
#include "backends/cpu/cpu_loops.h"
#include "core/types/visit_dtype.h"
#include "kernels/ctc_loss/ctc_loss.h"
#include "kernels/ctc_loss/ctc_recursion.h"

namespace tg::kernels {

namespace {

void ctc_cpu(Backend&, const CtcLossArgs& a) {
  const View* grad = a.grad.data != nullptr ? &a.grad : nullptr;
  visit_float(a.log_probs.dtype, "ctc_loss", [&]<typename T>() {
    const int64_t T_max = a.log_probs.shape[0], B = a.log_probs.shape[1], C = a.log_probs.shape[2];
    const int64_t S = a.targets.shape[1];
    // Work per sequence ~ T·(2S + 1) positions, a few exp/log each, plus T·C for the gradient.
    cpu::parallel_ranges(B, B * T_max * (2 * S + 1 + C) * 8, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        ctc::ctc_batch_item<T>(a.log_probs, a.targets, a.input_lengths, a.target_lengths, a.blank, a.loss, grad, b);
    });
  });
}

const RegisterKernel cpu_ctc(ctc_loss_table(), "cpu", &ctc_cpu);

}  // namespace

}  // namespace tg::kernels
