#include "ops/reshape.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

namespace {
Shape resolve_shape(const Shape& x_shape, Shape shape) {
  int inferred = -1;
  int64_t known = 1;
  for (int i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (inferred >= 0) fail("reshape: only one dimension may be -1, got {}", shape.str());
      inferred = i;
    } else if (shape[i] < 0) {
      fail("reshape: invalid size {} in {}", shape[i], shape.str());
    } else {
      known *= shape[i];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || x_shape.numel() % known != 0)
      fail("reshape: cannot view {} ({} elements) as {}", x_shape.str(), x_shape.numel(), shape.str());
    shape[inferred] = x_shape.numel() / known;
  }
  if (shape.numel() != x_shape.numel())
    fail("reshape: cannot view {} ({} elements) as {} ({} elements)", x_shape.str(), x_shape.numel(),
         shape.str(), shape.numel());
  return shape;
}
}  // namespace

// y = x with another shape;  dx += reshape(dy, x.shape)
Tensor reshape(const Tensor& x, const Shape& shape) {
  const ProfileScope profile("reshape");
  check_defined(x, "reshape", "x");
  const Shape target = resolve_shape(x.shape(), shape);
  const Tensor source = contiguous_values(x);
  Tensor y = make_view(source, target, contiguous_strides(target), source.offset());
  record("reshape", {&x}, y, [dx = slot_of(x)](const Tensor& dy) {  // saves nothing
    const Tensor g = contiguous_values(dy);
    accumulate_grad(*dx, make_view(g, dx->shape, contiguous_strides(dx->shape), g.offset()));
  });
  return y;
}

Tensor flatten(const Tensor& x, int start, int end) {
  const ProfileScope profile("flatten");
  check_defined(x, "flatten", "x");
  if (x.ndim() == 0) return reshape(x, Shape{1});
  start = normalize_axis(start, x.ndim(), "flatten");
  end = normalize_axis(end, x.ndim(), "flatten");
  if (start > end) fail("flatten: start axis {} is after end axis {}", start, end);
  Shape shape;
  for (int i = 0; i < start; ++i) shape.push_back(x.shape()[i]);
  int64_t merged = 1;
  for (int i = start; i <= end; ++i) merged *= x.shape()[i];
  shape.push_back(merged);
  for (int i = end + 1; i < x.ndim(); ++i) shape.push_back(x.shape()[i]);
  return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, int axis) {
  const ProfileScope profile("unsqueeze");
  check_defined(x, "unsqueeze", "x");
  Shape shape = x.shape();
  shape.insert(normalize_axis(axis, x.ndim() + 1, "unsqueeze"), 1);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int axis) {
  const ProfileScope profile("squeeze");
  check_defined(x, "squeeze", "x");
  const int a = normalize_axis(axis, x.ndim(), "squeeze");
  if (x.shape()[a] != 1) fail("squeeze: dimension {} of {} has size {}, not 1", a, x.shape().str(), x.shape()[a]);
  Shape shape = x.shape();
  shape.erase(a);
  return reshape(x, shape);
}

}  // namespace tg
