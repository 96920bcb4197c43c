#pragma once
// A tensor of host values with any shape, rank 0 included: from_vector reads
// an empty Shape as "1-D", which a zero-dim result (int64 x (shape ()) + 2, a
// number as a zero-dim operand) must not become.
#include <algorithm>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"

namespace tg::detail {

template <typename T>
Tensor host_tensor(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  if (!shape.empty()) return from_vector(values, shape, options);
  if (values.size() != 1) fail("host_tensor: {} values for a zero-dim tensor", values.size());
  Tensor host = Tensor::empty(Shape{}, {dtype_of<T>(), Device::cpu()});
  *host.data<T>() = values[0];
  Tensor out = host.to(options.dtype).to(options.device);
  if (options.requires_grad) out.requires_grad_();
  return out;
}

}  // namespace tg::detail
