// The cpu backend's CTC loss: the recursion of core/ctc_recursion.h, one
// sequence per task, the batch split over the thread pool (each sequence
// writes only its own loss and gradient column, so any split gives the same
// result).
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loops.h"
#include "core/ctc_recursion.h"
#include "core/dispatch.h"

namespace tg {

void CpuBackend::ctc_loss(const View& log_probs, const View& targets, const View& input_lengths,
                          const View& target_lengths, int64_t blank, const View& loss, const View* grad) {
  visit_float(log_probs.dtype, "ctc_loss", [&]<typename T>() {
    const int64_t T_max = log_probs.shape[0], B = log_probs.shape[1], C = log_probs.shape[2], S = targets.shape[1];
    // Work per sequence ~ T·(2S + 1) positions, a few exp/log each, plus T·C for the gradient.
    cpu::parallel_ranges(B, B * T_max * (2 * S + 1 + C) * 8, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        ctc::ctc_batch_item<T>(log_probs, targets, input_lengths, target_lengths, blank, loss, grad, b);
    });
  });
}

}  // namespace tg
