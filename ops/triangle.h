#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {
// The upper (triu) or lower (tril) triangle of the last two dims (..., R, C),
// the rest set to 0, as torch.triu / torch.tril: element (i, j) is kept when
// j − i ≥ diagonal (triu) or j − i ≤ diagonal (tril). dx += dy where kept.
Tensor triu(const Tensor& x, int64_t diagonal = 0);
Tensor tril(const Tensor& x, int64_t diagonal = 0);
}  // namespace tg
