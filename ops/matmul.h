#pragma once
#include "core/tensor/tensor.h"

namespace tg {
// C = A @ B over the last two dimensions, leading (batch) dimensions broadcast:
//   A (..., M, K) @ B (..., K, N) -> C (..., M, N)
//   dA += dC @ Bᵀ,  dB += Aᵀ @ dC   (summed over broadcast batch dimensions)
// A 1-D operand as torch.matmul takes it: on the left a row (K) -> (1, K), on
// the right a column (K) -> (K, 1), that dimension dropped from the result:
//   (K) @ (K) -> ()   the dot product
//   (M, K) @ (K) -> (M),  (K) @ (..., K, N) -> (..., N)
Tensor matmul(const Tensor& a, const Tensor& b);
// torch.dot: (K) @ (K) -> (), and torch.mv: (M, K) @ (K) -> (M); each refuses other ranks.
Tensor dot(const Tensor& a, const Tensor& b);
Tensor mv(const Tensor& matrix, const Tensor& vector);
}  // namespace tg
