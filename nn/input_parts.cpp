#include "nn/input_parts.h"

#include "core/error.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/slice.h"
#include "ops/transpose.h"

namespace tg::nn {

InputParts::InputParts(const Tensor& weight, const Tensor& bias, std::vector<int64_t> widths)
    : widths_(std::move(widths)), bias_(bias) {
  check_defined(weight, "InputParts", "weight");
  int64_t total = 0;
  for (const int64_t w : widths_) {
    if (w <= 0) fail("InputParts: part widths must be positive, got {}", w);
    total += w;
  }
  if (weight.ndim() != 2 || weight.size(1) != total)
    fail("InputParts: weight must be (out, {}) for parts of widths summing to {}, got {}", total, total,
         weight.shape().str());
  int64_t begin = 0;
  for (const int64_t w : widths_) {
    columns_t_.push_back(transpose(slice(weight, 1, begin, begin + w), 0, 1));  // W[:, begin:begin+w]ᵀ (w, out)
    begin += w;
  }
}

Tensor InputParts::project(size_t part, const Tensor& x) const {
  if (part >= columns_t_.size())
    fail("InputParts: part {} asked for, the input has {} parts", part, columns_t_.size());
  check_defined(x, "InputParts", "x");
  if (x.ndim() == 0 || x.size(-1) != widths_[part])
    fail("InputParts: part {} must end in its width {}, got {}", part, widths_[part], x.shape().str());
  const Tensor y = matmul(x, columns_t_[part]);           // (..., w_k) @ (w_k, out) -> (..., out)
  return part == 0 && bias_.defined() ? y + bias_ : y;  // the bias once, with part 0
}

}  // namespace tg::nn
