#include "ops/select.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace detail {
Tensor select_view(const Tensor& t, int axis, int64_t index) {
  Shape shape = t.shape();
  Strides strides = t.strides();
  const int64_t offset = t.offset() + index * strides[axis];
  shape.erase(axis);
  strides.erase(axis);
  return make_view(t, shape, strides, offset);
}
}  // namespace detail

Tensor Tensor::operator[](int64_t index) const { return select(*this, 0, index); }

// y = x[..., index, ...];  dx[..., index, ...] += dy
Tensor select(const Tensor& x, int axis, int64_t index) {
  const ProfileScope profile("select");
  check_defined(x, "select", "x");
  if (x.ndim() == 0) fail("select: cannot index a scalar (shape ())");
  const int a = normalize_axis(axis, x.ndim(), "select");
  const int64_t n = x.shape()[a];
  if (index < -n || index >= n)
    fail("select: index {} is out of range for dimension {} of size {} (shape {})", index, a, n,
         x.shape().str());
  if (index < 0) index += n;

  Tensor y = detail::select_view(x, a, index);
  record("select", {&x}, y, [dx = slot_of(x), a, index](const Tensor& dy) {  // saves nothing
    if (dx->grad == nullptr) {  // the first: written, the rest zeroed
      compute::copy_into(dy, detail::select_view(grad_buffer_but_part(*dx, a, index, 1), a, index));
      return;
    }
    compute::add_into(detail::select_view(grad_buffer(*dx), a, index), dy);
  });
  return y;
}

}  // namespace tg
