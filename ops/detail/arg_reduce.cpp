#include "ops/detail/arg_reduce.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/tensor/compute.h"

namespace tg::detail {

Tensor arg_reduce(const char* op, const Tensor& x, int axis, bool keepdim, bool negate) {
  const ProfileScope profile(op);
  check_defined(x, op, "x");
  if (x.ndim() == 0) fail("{}: needs a tensor with at least one dimension, got a scalar", op);
  const int a = normalize_axis(axis, x.ndim(), op);
  if (x.shape()[a] == 0) fail("{}: over axis {} of size 0 (shape {}) has no value", op, a, x.shape().str());
  Tensor values = is_floating(x.dtype()) ? x : x.to(DType::f64);
  if (negate) values = compute::unary(UnaryOp::neg, values);
  Tensor indices;
  compute::reduce(ReduceOp::max, values, a, &indices);  // axis kept with size 1
  if (keepdim) return indices;
  Shape shape = indices.shape(), strides = indices.strides();
  shape.erase(a);
  strides.erase(a);
  return make_view(indices, shape, strides, indices.offset());
}

}  // namespace tg::detail
