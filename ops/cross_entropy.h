#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"
#include "ops/loss.h"

namespace tg {

struct CrossEntropyOptions {
  int64_t ignore_index = -100;  // rows with this target add no loss and count for nothing
  double label_smoothing = 0;   // ε in [0, 1]
  Reduction reduction = Reduction::mean;
};

// Cross entropy of class logits against integer targets, as PyTorch's
// F.cross_entropy with one difference in layout: the classes are the LAST
// dimension here (PyTorch puts them second, (N, C, T); pass its logits
// through transpose(logits, 1, 2) to port code):
//   logits (N, C), target int64 (N)         -> loss per row (N)
//   logits (N, T, C), target int64 (N, T)   -> loss per position (N, T)
//   logp = log_softmax(logits) over C
//   loss_i = (1-ε)·(-logp[i, t_i]) + ε·mean_c(-logp[i, c]),  0 where t_i = ignore_index
//   mean: Σ loss_i / (number of non-ignored targets); sum: Σ loss_i; none: loss (N) / (N, T)
//   dlogits_i = (softmax_i - (1-ε)·onehot(t_i) - ε/C) · dloss_i
// When every target is ignored, mean returns 0 with a zero gradient (PyTorch
// returns NaN): a batch made only of padding contributes nothing instead of
// turning every parameter into NaN on the next optimizer step.
// Targets outside [0, C) other than ignore_index throw tg::Error.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options = {});

// The negative log-likelihood of log-probabilities, what cross_entropy applies
// after log_softmax: PyTorch's F.nll_loss (without class weights), the classes
// last as above. Same shapes, ignore_index and reductions as cross_entropy;
// label_smoothing must stay 0 (it is cross_entropy's).
//   loss_i = -logp[i, t_i]  (0 where t_i = ignore_index);  dlogp[i, c] = -dloss_i [c = t_i]
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, CrossEntropyOptions options = {});

}  // namespace tg
