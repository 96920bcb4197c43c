#include "ops/min.h"

#include "core/creation.h"
#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"

namespace tg {

namespace {
// `t` (with the reduced axis kept as size 1) seen without that axis, or the reverse.
Tensor drop_axis(const Tensor& t, int axis) {
  Shape shape = t.shape(), strides = t.strides();
  shape.erase(axis);
  strides.erase(axis);
  return make_view(t, shape, strides, t.offset());
}
Tensor insert_axis(const Tensor& t, int axis) {
  Shape shape = t.shape(), strides = t.strides();
  shape.insert(axis, 1);
  strides.insert(axis, 0);
  return make_view(t, shape, strides, t.offset());
}
}  // namespace

// values = min over axis = −max(−x), indices = argmin;  dx += dy at argmin, 0 elsewhere
//
// The reduce kernel has only max: the minimum is the negated maximum of −x,
// and the first maximum of −x is the first minimum of x. The backward marks
// the argmin of each slice with a one-hot mask, as max's does.
MinResult min(const Tensor& x, int axis, bool keepdim) {
  check_defined(x, "min", "x");
  check_floating(x, "min");
  if (x.ndim() == 0) fail("min: needs a tensor with at least one dimension, got a scalar");
  const int a = normalize_axis(axis, x.ndim(), "min");
  if (x.shape()[a] == 0) fail("min: over axis {} of size 0 (shape {}) has no value", a, x.shape().str());

  Tensor indices;
  const Tensor negated_max = kernels::reduce(ReduceOp::max, kernels::unary(UnaryOp::neg, x), a, &indices);
  const Tensor values_kept = kernels::unary(UnaryOp::neg, negated_max);  // axis kept, size 1
  MinResult result{keepdim ? values_kept : drop_axis(values_kept, a), keepdim ? indices : drop_axis(indices, a)};

  record("min", {&x}, result.values, [x, a, indices, keepdim](const Tensor& dy) {
    const int64_t n = x.shape()[a];
    Shape position_shape;
    for (int i = 0; i < x.ndim(); ++i) position_shape.push_back(i == a ? n : 1);
    const Tensor positions = arange(n, {DType::f64, x.device()});
    const Tensor mask = kernels::binary(BinaryOp::eq, make_view(positions, position_shape,
                                                                contiguous_strides(position_shape), positions.offset()),
                                        indices.to(DType::f64));  // bool, x's shape
    const Tensor zero = scalar(0, {x.dtype(), x.device()});
    const Tensor dy_kept = keepdim ? dy : insert_axis(dy, a);
    accumulate_grad(x, kernels::where(mask, dy_kept, zero));
  });
  return result;
}

}  // namespace tg
