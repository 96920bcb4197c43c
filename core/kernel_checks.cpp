#include "core/kernel_checks.h"


#include "core/error.h"

namespace tg::checks {

void dtype(std::string_view op, std::string_view what, const View& v, DType expected) {
  if (v.dtype != expected)
    fail("{}: {} must be {}, got {}", op, what, dtype_name(expected), dtype_name(v.dtype));
}

void shape(std::string_view op, std::string_view what, const View& v, const Shape& expected) {
  if (!(v.shape == expected)) fail("{}: {} has shape {}, expected {}", op, what, v.shape.str(), expected.str());
}

void rank(std::string_view op, std::string_view what, const View& v, int expected) {
  if (v.shape.size() != expected)
    fail("{}: {} must have rank {}, got shape {}", op, what, expected, v.shape.str());
}

void contiguous(std::string_view op, std::string_view what, const View& v) {
  if (!v.is_contiguous())
    fail("{}: {} must be contiguous, got shape {} with strides {}", op, what, v.shape.str(), v.strides.str());
}

void floating(std::string_view op, const View& v) {
  if (is_half(v.dtype))
    fail("{}: {} tensors are for storage and matrix products; this op computes in float32 or float64: convert "
         "with .to(DType::f32) first", op, dtype_name(v.dtype));
  if (!is_floating(v.dtype)) fail("{}: expected float32 or float64, got {}", op, dtype_name(v.dtype));
}

void copy_args(const View& src, const View& out) { shape("copy", "out", out, src.shape); }

void unary_args(const View& x, const View& out) {
  shape("unary", "out", out, x.shape);
  dtype("unary", "out", out, x.dtype);
  floating("unary", x);
}

void unary_backward_args(const View& x, const View& y, const View& dy, const View& dx) {
  for (const View* v : {&y, &dy, &dx}) {
    shape("unary_backward", "operand", *v, x.shape);
    dtype("unary_backward", "operand", *v, x.dtype);
  }
  floating("unary_backward", x);
}

void binary_args(BinaryOp op, const View& a, const View& b, const View& out) {
  shape("binary", "a", a, out.shape);
  shape("binary", "b", b, out.shape);
  dtype("binary", "b", b, a.dtype);
  dtype("binary", "out", out, is_comparison(op) ? DType::boolean : a.dtype);
  floating(binary_op_name(op), a);  // the public op's name, as the user called it
}

void where_args(const View& cond, const View& a, const View& b, const View& out) {
  shape("where", "cond", cond, out.shape);
  shape("where", "a", a, out.shape);
  shape("where", "b", b, out.shape);
  dtype("where", "cond", cond, DType::boolean);
  dtype("where", "b", b, a.dtype);
  dtype("where", "out", out, a.dtype);
}

int reduce_args(ReduceOp op, const View& x, int axis, const View& out, const View* argmax) {
  axis = normalize_axis(axis, x.shape.size(), "reduce");
  Shape kept = x.shape;
  kept[axis] = 1;
  shape("reduce", "out", out, kept);
  dtype("reduce", "out", out, x.dtype);
  contiguous("reduce", "out", out);
  floating("reduce", x);
  if (op == ReduceOp::max && x.shape[axis] == 0)
    fail("reduce: max over axis {} of size 0 (shape {}) has no value", axis, x.shape.str());
  if (argmax != nullptr) {
    shape("reduce", "argmax", *argmax, kept);
    dtype("reduce", "argmax", *argmax, DType::i64);
    contiguous("reduce", "argmax", *argmax);
  }
  return axis;
}

void matmul_args(const View& a, const View& b, const View& c, double beta) {
  rank("matmul", "a", a, 3);
  rank("matmul", "b", b, 3);
  rank("matmul", "c", c, 3);
  const Shape& as = a.shape;
  const Shape& bs = b.shape;
  if (as[0] != bs[0] || as[2] != bs[1] || !(c.shape == Shape{as[0], as[1], bs[2]}))
    fail("matmul: {} @ {} -> {}: expected a (B, M, K), b (B, K, N), c (B, M, N)", as.str(), bs.str(),
         c.shape.str());
  dtype("matmul", "b", b, a.dtype);
  if (!is_half(a.dtype) || c.dtype != DType::f32) dtype("matmul", "c", c, a.dtype);  // 16-bit: c may be float32
  contiguous("matmul", "c", c);
  if (!is_half(a.dtype)) floating("matmul", a);
  if (beta != 0 && beta != 1) fail("matmul: beta must be 0 or 1, got {}", beta);
}

void gather_rows_args(const View& table, const View& index, const View& out) {
  rank("gather_rows", "table", table, 2);
  rank("gather_rows", "index", index, 1);
  dtype("gather_rows", "index", index, DType::i64);
  shape("gather_rows", "out", out, Shape{index.shape[0], table.shape[1]});
  dtype("gather_rows", "out", out, table.dtype);
}

void scatter_add_rows_args(const View& src, const View& index, const View& table) {
  rank("scatter_add_rows", "table", table, 2);
  rank("scatter_add_rows", "index", index, 1);
  dtype("scatter_add_rows", "index", index, DType::i64);
  shape("scatter_add_rows", "src", src, Shape{index.shape[0], table.shape[1]});
  dtype("scatter_add_rows", "src", src, table.dtype);
  floating("scatter_add_rows", table);
}

namespace {
Rows as_rows(std::string_view op, const View& v) {
  if (v.shape.empty()) fail("{}: needs at least one dimension, got a scalar", op);
  contiguous(op, "input", v);
  const int64_t cols = v.shape.back();
  return {cols == 0 ? 0 : v.numel() / cols, cols};
}
}  // namespace

Rows softmax_args(const View& x, const View& out) {
  shape("softmax", "out", out, x.shape);
  dtype("softmax", "out", out, x.dtype);
  contiguous("softmax", "out", out);
  floating("softmax", x);
  return as_rows("softmax", x);
}

Rows softmax_backward_args(const View& y, const View& dy, const View& dx) {
  for (const View* v : {&dy, &dx}) {
    shape("softmax_backward", "gradient", *v, y.shape);
    dtype("softmax_backward", "gradient", *v, y.dtype);
    contiguous("softmax_backward", "gradient", *v);
  }
  floating("softmax_backward", y);
  return as_rows("softmax_backward", y);
}

namespace {
int64_t index_value(const View& index, int64_t i) { return index.as<const int64_t>()[i * index.strides[0]]; }
}  // namespace

void indices_in_range(std::string_view op, const View& index, int64_t rows) {
  for (int64_t i = 0; i < index.numel(); ++i) {
    const int64_t k = index_value(index, i);
    if (k < 0 || k >= rows) fail("{}: index {} at row {} is out of range for a table of {} rows", op, k, i, rows);
  }
}

void targets_in_range(std::string_view op, const View& target, int64_t ignore_index, int64_t classes) {
  for (int64_t i = 0; i < target.numel(); ++i) {
    const int64_t t = index_value(target, i);
    if (t != ignore_index && (t < 0 || t >= classes))
      fail("{}: target {} at row {} is out of range for {} classes", op, t, i, classes);
  }
}

}  // namespace tg::checks
