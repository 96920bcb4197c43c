#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// y = log Σ_axis e^x, computed as m + log Σ e^(x − m) with m = max over the
// axis (held constant: its terms cancel, so no overflow and the exact
// gradient), as torch.logsumexp.   dx += dy ⊙ softmax(x) along the axis.
Tensor logsumexp(const Tensor& x, int axis, bool keepdim = false);
}  // namespace tg
