#pragma once
#include "core/tensor/tensor.h"
#include "ops/loss.h"

namespace tg {
// Binary cross entropy of probabilities p against targets y in [0, 1], as
// F.binary_cross_entropy (its logs clamped at −100, so p = 0 or 1 gives 100, not inf):
//   loss_i = −(y_i max(log p_i, −100) + (1 − y_i) max(log(1 − p_i), −100))
//   dp += (−y / p + (1 − y) / (1 − p)) ⊙ dloss   where the logs are not clamped
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction reduction = Reduction::mean);

// The same from logits z (p = σ(z)), stable for any z, as F.binary_cross_entropy_with_logits:
//   loss_i = softplus(z_i) − y_i z_i   (= −y log σ(z) − (1 − y) log(1 − σ(z)))
//   dz += (σ(z) − y) ⊙ dloss
// softplus is linear past z = 20 (as PyTorch's softplus): there the loss is off by at most e^−20.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::mean);
}  // namespace tg
