#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// Each element (slice) of x along `axis` repeated `repeats` times in place,
// as torch.repeat_interleave: [a, b] → [a, a, b, b]; or element i repeated
// repeats[i] times. dx += the sum of dy over each element's copies.
Tensor repeat_interleave(const Tensor& x, int64_t repeats, int axis);
Tensor repeat_interleave(const Tensor& x, const std::vector<int64_t>& repeats, int axis);
}  // namespace tg
