#include "ops/slice.h"

#include <algorithm>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace detail {
Tensor slice_view(const Tensor& t, int axis, int64_t start, int64_t length, int64_t step) {
  Shape shape = t.shape();
  Strides strides = t.strides();
  shape[axis] = length;
  const int64_t offset = t.offset() + (length > 0 ? start * strides[axis] : 0);
  strides[axis] *= step;
  return make_view(t, shape, strides, offset);
}
}  // namespace detail

// y = x[..., start:end:step, ...];  dx[..., start:end:step, ...] += dy
Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end, int64_t step) {
  const ProfileScope profile("slice");
  check_defined(x, "slice", "x");
  if (x.ndim() == 0) fail("slice: cannot slice a scalar (shape ())");
  const int a = normalize_axis(axis, x.ndim(), "slice");
  if (step <= 0) fail("slice: step must be positive, got {}", step);
  // Python's rules: negative bounds count from the end, then clamp to [0, n].
  const int64_t n = x.shape()[a];
  auto resolve = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  start = resolve(start);
  end = resolve(end);
  const int64_t length = end > start ? (end - start + step - 1) / step : 0;

  Tensor y = detail::slice_view(x, a, start, length, step);
  record("slice", {&x}, y, [dx = slot_of(x), a, start, length, step](const Tensor& dy) {  // saves nothing
    if (dx->grad == nullptr && step == 1) {  // the first: written, the rest zeroed
      compute::copy_into(dy, detail::slice_view(grad_buffer_but_part(*dx, a, start, length), a, start, length, 1));
      return;
    }
    compute::add_into(detail::slice_view(grad_buffer(*dx), a, start, length, step), dy);
  });
  return y;
}

}  // namespace tg
