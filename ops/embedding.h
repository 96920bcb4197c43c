#pragma once
#include <cstdint>

#include "core/tensor/tensor.h"

namespace tg {
// Row lookup: table (V, D), index int64 (S...) -> y (S..., D), y[s, :] = table[index[s], :].
//   dtable[index[s], :] += dy[s, :]
// Entries equal to padding_idx (when ≥ 0) still read their row but send it no
// gradient; -1 means no padding row.
Tensor embedding(const Tensor& table, const Tensor& index, int64_t padding_idx = -1);
}  // namespace tg
