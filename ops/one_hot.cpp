#include "ops/one_hot.h"

#include <algorithm>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"

namespace tg {

Tensor one_hot(const Tensor& index, int64_t num_classes) {
  const ProfileScope profile("one_hot");
  check_defined(index, "one_hot", "index");
  if (index.dtype() != DType::i64) fail("one_hot: the index must be int64, got {}", dtype_name(index.dtype()));
  const std::vector<int64_t> values = contiguous_values(index).to_vector<int64_t>();
  if (num_classes < 0) {
    if (values.empty()) fail("one_hot: an empty index needs num_classes given");
    num_classes = *std::max_element(values.begin(), values.end()) + 1;
  }
  Shape shape = index.shape();
  shape.push_back(num_classes);
  std::vector<int64_t> out(values.size() * static_cast<size_t>(num_classes), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0 || values[i] >= num_classes)
      fail("one_hot: index {} at position {} is outside [0, {})", values[i], i, num_classes);
    out[i * static_cast<size_t>(num_classes) + static_cast<size_t>(values[i])] = 1;
  }
  return from_vector(out, shape, {DType::i64, index.device()});
}

}  // namespace tg
