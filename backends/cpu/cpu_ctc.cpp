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
    const int64_t T_max = log_probs.shape[0], B = log_probs.shape[1], C = log_probs.shape[2];
    const int64_t S = targets.shape[1];
    // Work per sequence ~ T·(2S + 1) positions, a few exp/log each, plus T·C for the gradient.
    cpu::parallel_ranges(B, B * T_max * (2 * S + 1 + C) * 8, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const int64_t steps = input_lengths.as<const int64_t>()[b * input_lengths.strides[0]];
        const int64_t count = target_lengths.as<const int64_t>()[b * target_lengths.strides[0]];
        const T* lp = log_probs.as<const T>() + b * log_probs.strides[1];
        auto log_prob = [&](int64_t t, int64_t c) {
          return double(lp[t * log_probs.strides[0] + c * log_probs.strides[2]]);
        };
        T* g = grad != nullptr ? grad->as<T>() + b * grad->strides[1] : nullptr;
        auto grad_at = [&](int64_t t, int64_t c) -> T& { return g[t * grad->strides[0] + c * grad->strides[2]]; };
        const double l = ctc::ctc_sequence<T>(log_prob, steps, C, targets.as<const int64_t>() + b * targets.strides[0],
                                              count, blank, grad != nullptr ? &grad_at : nullptr);
        loss.as<T>()[b * loss.strides[0]] = T(l);
        if (grad != nullptr)
          for (int64_t t = steps; t < T_max; ++t)
            for (int64_t c = 0; c < C; ++c) grad_at(t, c) = T(0);
      }
    });
  });
}

}  // namespace tg
