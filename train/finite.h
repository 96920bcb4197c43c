#pragma once
// Non-finite values (nan, inf) in what training keeps: a run never saves them
// and never resumes from them (train/training_checkpoint.h, train/harness.h).
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::train {

// "" when every element of `t` is finite, else where the first is:
// "element 17 is nan" (flat index, row-major).
std::string first_non_finite(const Tensor& t);

bool all_finite(const std::vector<Tensor>& tensors);

// "nan", "inf" or "-inf" for a non-finite number (messages).
std::string non_finite_name(double value);

}  // namespace tg::train
