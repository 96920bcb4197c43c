#include "core/dispatch/primitives.h"

#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"
#include "core/dispatch/primitives_reference.h"

namespace tg {

std::string_view unary_op_name(UnaryOp op) {
  constexpr std::string_view names[] = {"neg",  "exp",  "log", "sqrt",       "tanh",       "sigmoid",
                                        "relu", "abs", "erf", "pow_scalar", "mul_scalar", "add_scalar",
                                        "sin",  "cos"};
  return names[static_cast<int>(op)];
}

std::string_view binary_op_name(BinaryOp op) {
  constexpr std::string_view names[] = {"add", "sub", "mul", "div", "maximum", "minimum",
                                        "eq",  "ne",  "lt",  "le",  "gt",      "ge"};
  return names[static_cast<int>(op)];
}

namespace primitives {

using namespace checks;

namespace {

// The checks: each throws a tg::Error naming the kernel, the operand and what was expected.

void fill_check(const FillArgs&) {}

void copy_check(const CopyArgs& a) { shape("copy", "out", a.out, a.src.shape); }

void unary_check(const UnaryArgs& a) {
  shape("unary", "out", a.out, a.x.shape);
  dtype("unary", "out", a.out, a.x.dtype);
  floating("unary", a.x);
}

void unary_backward_check(const UnaryBackwardArgs& a) {
  for (const View* v : {&a.y, &a.dy, &a.dx}) {
    shape("unary_backward", "operand", *v, a.x.shape);
    dtype("unary_backward", "operand", *v, a.x.dtype);
  }
  floating("unary_backward", a.x);
}

void binary_check(const BinaryArgs& a) {
  shape("binary", "a", a.a, a.out.shape);
  shape("binary", "b", a.b, a.out.shape);
  dtype("binary", "b", a.b, a.a.dtype);
  dtype("binary", "out", a.out, is_comparison(a.op) ? DType::boolean : a.a.dtype);
  floating(binary_op_name(a.op), a.a);  // the public op's name, as the user called it
}

void where_check(const WhereArgs& a) {
  shape("where", "cond", a.cond, a.out.shape);
  shape("where", "a", a.a, a.out.shape);
  shape("where", "b", a.b, a.out.shape);
  dtype("where", "cond", a.cond, DType::boolean);
  dtype("where", "b", a.b, a.a.dtype);
  dtype("where", "out", a.out, a.a.dtype);
}

void reduce_check(const ReduceArgs& a) {
  const int axis = normalize_axis(a.axis, a.x.shape.size(), "reduce");
  Shape kept = a.x.shape;
  kept[axis] = 1;
  shape("reduce", "out", a.out, kept);
  dtype("reduce", "out", a.out, a.x.dtype);
  contiguous("reduce", "out", a.out);
  floating("reduce", a.x);
  if (a.op == ReduceOp::max && a.x.shape[axis] == 0)
    fail("reduce: max over axis {} of size 0 (shape {}) has no value", axis, a.x.shape.str());
  if (a.argmax != nullptr) {
    shape("reduce", "argmax", *a.argmax, kept);
    dtype("reduce", "argmax", *a.argmax, DType::i64);
    contiguous("reduce", "argmax", *a.argmax);
  }
}

void matmul_check(const MatmulArgs& args) {
  const View &a = args.a, &b = args.b, &c = args.c;
  rank("matmul", "a", a, 3);
  rank("matmul", "b", b, 3);
  rank("matmul", "c", c, 3);
  if (a.shape[0] != b.shape[0] || a.shape[2] != b.shape[1] || !(c.shape == Shape{a.shape[0], a.shape[1], b.shape[2]}))
    fail("matmul: {} @ {} -> {}: expected a (B, M, K), b (B, K, N), c (B, M, N)", a.shape.str(), b.shape.str(),
         c.shape.str());
  dtype("matmul", "b", b, a.dtype);
  if (!is_half(a.dtype) || c.dtype != DType::f32) dtype("matmul", "c", c, a.dtype);  // 16-bit: c may be float32
  contiguous("matmul", "c", c);
  if (!is_half(a.dtype)) floating("matmul", a);
  if (args.beta != 0 && args.beta != 1) fail("matmul: beta must be 0 or 1, got {}", args.beta);
}

void gather_rows_check(const GatherRowsArgs& a) {
  rank("gather_rows", "table", a.table, 2);
  rank("gather_rows", "index", a.index, 1);
  dtype("gather_rows", "index", a.index, DType::i64);
  shape("gather_rows", "out", a.out, Shape{a.index.shape[0], a.table.shape[1]});
  dtype("gather_rows", "out", a.out, a.table.dtype);
}
void gather_rows_values(const GatherRowsArgs& a) { indices_in_range("gather_rows", a.index, a.table.shape[0]); }

void scatter_add_rows_check(const ScatterAddRowsArgs& a) {
  rank("scatter_add_rows", "table", a.table, 2);
  rank("scatter_add_rows", "index", a.index, 1);
  dtype("scatter_add_rows", "index", a.index, DType::i64);
  shape("scatter_add_rows", "src", a.src, Shape{a.index.shape[0], a.table.shape[1]});
  dtype("scatter_add_rows", "src", a.src, a.table.dtype);
  floating("scatter_add_rows", a.table);
}
void scatter_add_rows_values(const ScatterAddRowsArgs& a) {
  indices_in_range("scatter_add_rows", a.index, a.table.shape[0]);
}

void rows_check(std::string_view op, const View& v) {
  if (v.shape.empty()) fail("{}: needs at least one dimension, got a scalar", op);
  contiguous(op, "input", v);
}

void softmax_check(const SoftmaxArgs& a) {
  shape("softmax", "out", a.out, a.x.shape);
  dtype("softmax", "out", a.out, a.x.dtype);
  contiguous("softmax", "out", a.out);
  floating("softmax", a.x);
  rows_check("softmax", a.x);
}

void softmax_backward_check(const SoftmaxBackwardArgs& a) {
  for (const View* v : {&a.dy, &a.dx}) {
    shape("softmax_backward", "gradient", *v, a.y.shape);
    dtype("softmax_backward", "gradient", *v, a.y.dtype);
    contiguous("softmax_backward", "gradient", *v);
  }
  floating("softmax_backward", a.y);
  rows_check("softmax_backward", a.y);
}

}  // namespace

int reduce_axis(const ReduceArgs& args) {
  const int rank = args.x.shape.size();
  return args.axis < 0 ? args.axis + rank : args.axis;
}

Rows as_rows(const View& v) {
  const int64_t cols = v.shape.back();
  return {cols == 0 ? 0 : v.numel() / cols, cols};
}

// name_table(): the kernel `name` with its check, its reference body and, for the two that read indices,
// the check of their values on host memory.
#define TG_PRIMITIVE_TABLE(name, Args, ...)                                        \
  KernelTable<Args>& name##_table() {                                            \
    static KernelTable<Args> table(#name, &name##_check, &name##_reference, ##__VA_ARGS__); \
    return table;                                                                \
  }
TG_PRIMITIVE_TABLE(fill, FillArgs)
TG_PRIMITIVE_TABLE(copy, CopyArgs)
TG_PRIMITIVE_TABLE(unary, UnaryArgs)
TG_PRIMITIVE_TABLE(unary_backward, UnaryBackwardArgs)
TG_PRIMITIVE_TABLE(binary, BinaryArgs)
TG_PRIMITIVE_TABLE(where, WhereArgs)
TG_PRIMITIVE_TABLE(reduce, ReduceArgs)
TG_PRIMITIVE_TABLE(matmul, MatmulArgs)
TG_PRIMITIVE_TABLE(gather_rows, GatherRowsArgs, &gather_rows_values)
TG_PRIMITIVE_TABLE(scatter_add_rows, ScatterAddRowsArgs, &scatter_add_rows_values)
TG_PRIMITIVE_TABLE(softmax, SoftmaxArgs)
TG_PRIMITIVE_TABLE(softmax_backward, SoftmaxBackwardArgs)
#undef TG_PRIMITIVE_TABLE

}  // namespace primitives
}  // namespace tg
