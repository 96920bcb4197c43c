#include "ops/detail/expand_view.h"

#include "core/services/error.h"
#include "core/autograd/tape.h"

namespace tg::detail {

// y[i] = x[i with grown dimensions at 0];  dx += dy summed over the grown dimensions
Tensor expand_view(const char* op, const Tensor& x, const Shape& shape) {
  const ProfileScope profile(op);
  check_defined(x, op, "x");
  const int rank = shape.size(), lead = rank - x.ndim();
  if (lead < 0)
    fail("{}: cannot expand {} to {}: the target has fewer dimensions ({} < {})", op, x.shape().str(), shape.str(),
         rank, x.ndim());
  Shape target;
  Strides strides;
  for (int i = 0; i < rank; ++i) {
    const int64_t want = shape[i];
    if (i < lead) {  // a new leading dimension
      if (want < 0)
        fail("{}: cannot expand {} to {}: size {} for the new dimension {} (-1 only keeps an existing size)", op,
             x.shape().str(), shape.str(), want, i);
      target.push_back(want);
      strides.push_back(0);
      continue;
    }
    const int64_t have = x.shape()[i - lead];
    if (want == -1 || want == have) {
      target.push_back(have);
      strides.push_back(x.strides()[i - lead]);
    } else if (have == 1 && want >= 0) {
      target.push_back(want);
      strides.push_back(0);
    } else {
      fail("{}: cannot expand {} to {}: dimension {} has size {}, which can only grow from 1 (or use -1 to keep it)",
           op, x.shape().str(), shape.str(), i, have);
    }
  }
  Tensor y = make_view(x, target, strides, x.offset());
  // Saves nothing; accumulate_grad sums dy back to x's shape.
  record(op, {&x}, y, [dx = slot_of(x)](const Tensor& dy) { accumulate_grad(*dx, dy); });
  return y;
}

}  // namespace tg::detail
