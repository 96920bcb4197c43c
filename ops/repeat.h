#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// x tiled repeats[i] times along dimension i, as Tensor.repeat (numpy's tile):
// [a, b].repeat({2}) → [a, b, a, b]. repeats has at least x.ndim() entries;
// extra ones add leading dimensions. y's shape is repeats[i] · x's (padded with 1s in front).
//   dx += the sum of dy over all the copies
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
}  // namespace tg
