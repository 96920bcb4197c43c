#pragma once
#include "core/tensor.h"

namespace tg {
// C = A @ B over the last two dimensions, leading (batch) dimensions broadcast:
//   A (..., M, K) @ B (..., K, N) -> C (..., M, N)
//   dA += dC @ Bᵀ,  dB += Aᵀ @ dC   (summed over broadcast batch dimensions)
Tensor matmul(const Tensor& a, const Tensor& b);
}  // namespace tg
