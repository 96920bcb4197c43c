#include "core/tensor/compute.h"

#include "core/services/error.h"

namespace tg::compute {

void mark_written(const Tensor& t) { t.impl().storage->bump_version(); }

Tensor empty_like(const Tensor& like, const Shape& shape) { return empty_like(like, shape, like.dtype()); }

Tensor empty_like(const Tensor& like, const Shape& shape, DType dtype) {
  return Tensor::empty(shape, {dtype, like.device()});
}

Tensor zeros_like(const Tensor& like) {
  Tensor out = empty_like(like, like.shape());
  fill(out, 0);
  return out;
}

void fill(const Tensor& out, double value) {
  mark_written(out);
  primitives::fill(backend_for(out.device()), out.view(), value);
}

namespace {
// src read as dst's shape (broadcasting via stride 0).
View broadcast_view(const Tensor& src, const Shape& target) {
  View v = src.view();
  v.strides = broadcast_strides(v.shape, v.strides, target);
  v.shape = target;
  return v;
}
}  // namespace

void copy_into(const Tensor& src, const Tensor& dst) {
  if (src.device() != dst.device())
    fail("copy: source on {} and destination on {}", src.device().str(), dst.device().str());
  broadcast_shapes(src.shape(), dst.shape(), "copy");
  mark_written(dst);
  primitives::copy(backend_for(dst.device()), broadcast_view(src, dst.shape()), dst.view());
}

void add_into(const Tensor& dst, const Tensor& src) {
  check_same_kind(dst, src, "add_into");
  mark_written(dst);
  const View d = dst.view();
  primitives::binary(backend_for(dst.device()), BinaryOp::add, d, broadcast_view(src, dst.shape()), d);
}

Tensor unary(UnaryOp op, const Tensor& x, double scalar) {
  Tensor out = empty_like(x, x.shape());
  primitives::unary(backend_for(x.device()), op, x.view(), out.view(), scalar);
  return out;
}

void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy,
                    const Tensor& dx, double scalar) {
  mark_written(dx);
  primitives::unary_backward(backend_for(dx.device()), op, x.view(), y.view(), dy.view(), dx.view(), scalar);
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_kind(a, b, binary_op_name(op).data());
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), binary_op_name(op).data());
  Tensor out = empty_like(a, shape, is_comparison(op) ? DType::boolean : a.dtype());
  primitives::binary(backend_for(a.device()), op, broadcast_view(a, shape), broadcast_view(b, shape), out.view());
  return out;
}

void binary_into(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_kind(a, b, binary_op_name(op).data());
  mark_written(a);
  const View out = a.view();
  primitives::binary(backend_for(a.device()), op, out, broadcast_view(b, a.shape()), out);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_kind(a, b, "where");
  if (cond.dtype() != DType::boolean)
    fail("where: condition must be bool, got {}", dtype_name(cond.dtype()));
  const Shape shape =
      broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  Tensor out = empty_like(a, shape);
  primitives::where(backend_for(a.device()), broadcast_view(cond, shape), broadcast_view(a, shape),
                                broadcast_view(b, shape), out.view());
  return out;
}

Tensor reduce(ReduceOp op, const Tensor& x, int axis, Tensor* argmax) {
  Shape shape = x.shape();
  shape[axis] = 1;
  Tensor out = empty_like(x, shape);
  View argmax_view;
  if (argmax != nullptr) {
    *argmax = empty_like(x, shape, DType::i64);
    argmax_view = argmax->view();
  }
  primitives::reduce(backend_for(x.device()), op, x.view(), axis, out.view(), argmax ? &argmax_view : nullptr);
  return out;
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor sum = g;
  const int lead = g.ndim() - shape.size();
  for (int i = 0; i < g.ndim(); ++i) {
    const int64_t target = i < lead ? 1 : shape[i - lead];
    if (target == 1 && g.shape()[i] != 1) sum = reduce(ReduceOp::sum, sum, i);
  }
  // Drop the leading broadcast dimensions (now of size 1).
  sum = contiguous_values(sum);
  return make_view(sum, shape, contiguous_strides(shape), sum.offset());
}

void matmul_into(const Tensor& a, const Tensor& b, const Tensor& c, bool accumulate) {
  mark_written(c);
  View out = c.view();
  if (c.ndim() != 3) {  // contiguous (..., M, N) as (B, M, N)
    const Shape shape3{a.size(0), c.size(-2), c.size(-1)};
    out = make_view(c, shape3, contiguous_strides(shape3), c.offset()).view();
  }
  primitives::matmul(backend_for(c.device()), a.view(), b.view(), out, accumulate ? 1.0 : 0.0);
}

namespace {
// A matrix as a batch of one, on the stack.
View as_batch_of_one(const Tensor& t) {
  View v = t.view();
  const int64_t matrix_elements = v.numel();  // the stride a contiguous batch would have
  v.shape.insert(0, 1);
  v.strides.insert(0, matrix_elements);
  return v;
}
}  // namespace

void matmul2d_into(const Tensor& a, const Tensor& b, const Tensor& c, bool accumulate) {
  mark_written(c);
  primitives::matmul(backend_for(c.device()), as_batch_of_one(a), as_batch_of_one(b), as_batch_of_one(c), accumulate ? 1.0 : 0.0);
}

Tensor gather_rows(const Tensor& table, const Tensor& index) {
  Tensor out = empty_like(table, Shape{index.shape()[0], table.shape()[1]});
  primitives::gather_rows(backend_for(table.device()), table.view(), index.view(), out.view());
  return out;
}

void scatter_add_rows(const Tensor& src, const Tensor& index, const Tensor& table) {
  mark_written(table);
  primitives::scatter_add_rows(backend_for(table.device()), src.view(), index.view(), table.view());
}

Tensor softmax_rows(const Tensor& x, bool log) {
  Tensor y = empty_like(x, x.shape());
  primitives::softmax(backend_for(x.device()), x.view(), y.view(), log);
  return y;
}

void softmax_rows_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) {
  mark_written(dx);
  primitives::softmax_backward(backend_for(dx.device()), y.view(), dy.view(), dx.view(), log);
}

}  // namespace tg::compute
