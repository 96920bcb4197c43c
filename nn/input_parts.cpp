#include "nn/input_parts.h"

#include "core/services/error.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/slice.h"

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
    columns_.push_back(slice(weight, 1, begin, begin + w));  // W_k = W[:, begin:begin+w] (out, w)
    begin += w;
  }
}

void InputParts::check_part(size_t part, const Tensor& x) const {
  if (part >= columns_.size())
    fail("InputParts: part {} asked for, the input has {} parts", part, columns_.size());
  check_defined(x, "InputParts", "x");
  if (x.ndim() == 0 || x.size(-1) != widths_[part])
    fail("InputParts: part {} must end in its width {}, got {}", part, widths_[part], x.shape().str());
}

Tensor InputParts::project(size_t part, const Tensor& x) const {
  check_part(part, x);
  return linear(x, columns_[part]);  // (..., w_k) @ W_kᵀ -> (..., out)
}

Tensor InputParts::project_with_bias(size_t part, const Tensor& x) const {
  if (!bias_.defined()) return project(part, x);
  check_part(part, x);
  return linear(x, columns_[part], bias_);  // x_k W_kᵀ + b, one node
}

Tensor InputParts::project_onto(size_t part, const Tensor& x, const Tensor& base) const {
  check_part(part, x);
  return linear(x, columns_[part], base);
}

}  // namespace tg::nn
