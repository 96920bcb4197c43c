#include "ops/softmax.h"

#include <vector>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace {

// The order of dimensions that moves `axis` last, and its inverse.
std::vector<int> axis_last_order(int rank, int axis) {
  std::vector<int> dims;
  for (int i = 0; i < rank; ++i)
    if (i != axis) dims.push_back(i);
  dims.push_back(axis);
  return dims;
}
std::vector<int> inverse_order(const std::vector<int>& dims) {
  std::vector<int> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<int>(i);
  return inverse;
}
// The backend kernels work row-wise on the last axis of a contiguous (R, C)
// view. For another axis: move it last (permute + contiguous copy), run the
// kernel, and hand back a view with the dimensions moved back; the backward
// does the same to dy and moves dx back.
//   y = softmax(x), dx += y ⊙ (dy - Σ dy ⊙ y)      (log = false)
//   y = log softmax(x), dx += dy - e^y ⊙ Σ dy        (log = true)
Tensor softmax_along(const char* name, const Tensor& x, int axis, bool log) {
  const ProfileScope profile(name);
  check_defined(x, name, "x");
  check_floating(x, name);
  if (x.ndim() == 0) fail("{}: needs a tensor with at least one dimension, got a scalar", name);
  const int a = normalize_axis(axis, x.ndim(), name);
  const bool last = a == x.ndim() - 1;
  const std::vector<int> order = axis_last_order(x.ndim(), a), inverse = inverse_order(order);

  const Tensor x_rows = last ? contiguous_values(x) : contiguous_values(permuted_view(x, order));
  const Tensor y_rows = compute::softmax_rows(x_rows, log);  // contiguous, axis last
  Tensor y = last ? y_rows : permuted_view(y_rows, inverse);

  const Saved y_saved = save_if(x.requires_grad(), "y", y_rows);  // both derivatives read y only
  record(name, {&x}, y, {y_saved}, [dx_slot = slot_of(x), y_saved, log, last, order, inverse](const Tensor& dy) {
    const Tensor& y_rows = y_saved.get();
    const Tensor dy_rows = contiguous_values((last ? dy : permuted_view(dy, order)));
    if (last) {  // accumulate straight into x's gradient buffer when it is contiguous
      const Tensor dx = grad_buffer(*dx_slot);
      if (dx.is_contiguous()) {
        compute::softmax_rows_backward(y_rows, dy_rows, dx, log);
        return;
      }
    }
    const Tensor dx_rows = compute::zeros_like(y_rows);
    compute::softmax_rows_backward(y_rows, dy_rows, dx_rows, log);
    accumulate_grad(*dx_slot, last ? dx_rows : permuted_view(dx_rows, inverse));
  });
  return y;
}

}  // namespace

// y = softmax(x);  dx += y ⊙ (dy - Σ_axis dy ⊙ y)
Tensor softmax(const Tensor& x, int axis) { return softmax_along("softmax", x, axis, false); }

// y = log softmax(x);  dx += dy - e^y ⊙ Σ_axis dy
Tensor log_softmax(const Tensor& x, int axis) { return softmax_along("log_softmax", x, axis, true); }

}  // namespace tg
