#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// Views of consecutive pieces of x along `axis`, as torch.split: pieces of
// `size` (the last one shorter when size does not divide the length), or of
// the given sizes (which must add up to the length). Each piece's gradient
// flows back into its part of x.
std::vector<Tensor> split(const Tensor& x, int64_t size, int axis = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int axis = 0);
// `chunks` pieces as equal as torch.chunk makes them: ⌈length / chunks⌉ each,
// so fewer pieces when the last ones would be empty.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int axis = 0);
}  // namespace tg
