#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"
#include "ops/loss.h"

namespace tg {
// Connectionist temporal classification (Graves et al. 2006), as
// torch.nn.functional.ctc_loss, with its argument order:
//   log_probs       (T, B, C) log-probabilities over C classes (log_softmax's output), or (T, C) for one sequence
//   targets         int64 (B, S) padded (row b's first target_lengths[b] labels), or (Σ_b S_b) concatenated
//   input_lengths   int64 (B): steps of each sequence, 1 to T
//   target_lengths  int64 (B): labels of each sequence
//   blank           the blank class, in [0, C); no target may be it
//   reduction       mean: each loss ÷ its target length (at least 1), then the mean over the batch; sum; none: (B)
//   zero_infinity   a sequence no alignment fits (loss +inf) counts 0 instead
// loss_b = −ln Σ over the alignments π of target b in T_b steps of Π_t p_t(π_t),
// by the forward-backward recursion in log space (kernels/ctc_loss/ctc_recursion.h) as a
// fused kernel (kernels/ctc_loss/: reference loops; cpu: the batch over the threads; CUDA: a
// block per sequence, kernels/ctc_loss/ctc_loss_cuda.cu). Lengths and targets are
// read on the host to check them, whatever the device.
//
// Backward: dlog_probs[t, b, c] = dloss_b · ∂loss_b/∂log_probs[t, b, c], the
// derivative with respect to the log-probabilities (a gradcheck holds on
// them). PyTorch's backward adds dloss_b · e^log_probs[t, b, c], which
// log_softmax's backward cancels (those terms sum to dloss_b over c): the
// gradients reaching the logits are the same. An infeasible sequence's
// gradient is 0, never NaN.
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
                const Tensor& target_lengths, int64_t blank = 0, Reduction reduction = Reduction::mean,
                bool zero_infinity = false);
// Lengths as lists, as PyTorch also takes them.
Tensor ctc_loss(const Tensor& log_probs, const Tensor& targets, const std::vector<int64_t>& input_lengths,
                const std::vector<int64_t>& target_lengths, int64_t blank = 0, Reduction reduction = Reduction::mean,
                bool zero_infinity = false);
}  // namespace tg
