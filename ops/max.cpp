#include "ops/max.h"

#include "ops/reshape.h"
#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace {
// `t` (with the reduced axis kept as size 1) seen without that axis, or the
// reverse: the same data, one dimension of size 1 fewer or more.
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

// values = max over axis, indices = argmax;  dx += dy at argmax, 0 elsewhere
//
// Backward without a dedicated kernel: a one-hot mask of x's shape marks the
// argmax position of each slice, by comparing the positions 0..n-1 along the
// axis (an arange shaped (1, .., n, .., 1)) with the saved indices (shape
// (.., 1, ..)) under broadcasting; then dx += where(mask, dy, 0). Only the
// saved argmax is marked, so ties send the whole gradient to the first
// maximum. The comparison runs in float64, exact for any index below 2^53.
MaxResult max(const Tensor& x, int axis, bool keepdim) {
  const ProfileScope profile("max");
  check_defined(x, "max", "x");
  check_floating(x, "max");
  if (x.ndim() == 0) fail("max: needs a tensor with at least one dimension, got a scalar");
  const int a = normalize_axis(axis, x.ndim(), "max");
  if (x.shape()[a] == 0) fail("max: over axis {} of size 0 (shape {}) has no value", a, x.shape().str());

  Tensor indices;
  const Tensor values_kept = compute::reduce(ReduceOp::max, x, a, &indices);  // axis kept, size 1
  MaxResult result{keepdim ? values_kept : drop_axis(values_kept, a), keepdim ? indices : drop_axis(indices, a)};

  const Saved indices_saved = save_if(x.requires_grad(), "indices", indices);
  record("max", {&x}, result.values, {indices_saved}, [dx = slot_of(x), a, indices_saved, keepdim](const Tensor& dy) {
    const Shape& x_shape = dx->shape;
    const int64_t n = x_shape[a];
    Shape position_shape;
    for (int i = 0; i < x_shape.size(); ++i) position_shape.push_back(i == a ? n : 1);
    const Tensor positions = arange(n, {DType::f64, dx->device});
    const Tensor mask = compute::binary(BinaryOp::eq, make_view(positions, position_shape,
                                                                contiguous_strides(position_shape), positions.offset()),
                                        indices_saved.get().to(DType::f64));  // bool, x's shape
    Tensor zero = compute::empty_like(dy, Shape{});
    compute::fill(zero, 0);
    const Tensor dy_kept = keepdim ? dy : insert_axis(dy, a);
    accumulate_grad(*dx, compute::where(mask, dy_kept, zero));
  });
  return result;
}


Tensor max(const Tensor& x) {
  check_defined(x, "max", "x");
  if (x.numel() == 0) fail("max: of an empty tensor of shape {}: it has no largest element", x.shape().str());
  return max(reshape(x, Shape{x.numel()}), 0).values;
}

}  // namespace tg
