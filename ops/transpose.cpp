#include "ops/transpose.h"

#include "core/services/error.h"
#include "core/autograd/tape.h"

namespace tg {

// y = permute(x, dims);  dx += permute(dy, inverse(dims))
Tensor permute(const Tensor& x, const std::vector<int>& dims) {
  const ProfileScope profile("permute");
  check_defined(x, "permute", "x");
  if (static_cast<int>(dims.size()) != x.ndim())
    fail("permute: {} dims given for a tensor of rank {} (shape {})", dims.size(), x.ndim(), x.shape().str());
  std::vector<int> resolved(dims.size()), inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    resolved[i] = normalize_axis(dims[i], x.ndim(), "permute");
    if (inverse[resolved[i]] != -1) fail("permute: dimension {} appears twice", resolved[i]);
    inverse[resolved[i]] = static_cast<int>(i);
  }
  Tensor y = permuted_view(x, resolved);
  record("permute", {&x}, y, [dx = slot_of(x), inverse](const Tensor& dy) {  // saves nothing
    accumulate_grad(*dx, permuted_view(dy, inverse));
  });
  return y;
}

Tensor transpose(const Tensor& x, int dim0, int dim1) {
  const ProfileScope profile("transpose");
  check_defined(x, "transpose", "x");
  std::vector<int> dims(x.ndim());
  for (int i = 0; i < x.ndim(); ++i) dims[i] = i;
  std::swap(dims[normalize_axis(dim0, x.ndim(), "transpose")], dims[normalize_axis(dim1, x.ndim(), "transpose")]);
  return permute(x, dims);
}

}  // namespace tg
