#include "core/kernel_checks.h"

#include <tuple>
#include <utility>

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
  floating("binary", a);
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

void nll_args(const View& logp, const View& target, const View& loss) {
  rank("nll", "logp", logp, 2);
  contiguous("nll", "logp", logp);
  floating("nll", logp);
  const int64_t rows = logp.shape[0];
  shape("nll", "target", target, Shape{rows});
  dtype("nll", "target", target, DType::i64);
  shape("nll", "loss", loss, Shape{rows});
  dtype("nll", "loss", loss, logp.dtype);
}

void nll_backward_args(const View& target, const View& dloss, const View& dlogp) {
  rank("nll_backward", "dlogp", dlogp, 2);
  contiguous("nll_backward", "dlogp", dlogp);
  floating("nll_backward", dlogp);
  const int64_t rows = dlogp.shape[0];
  shape("nll_backward", "target", target, Shape{rows});
  dtype("nll_backward", "target", target, DType::i64);
  shape("nll_backward", "dloss", dloss, Shape{rows});
  dtype("nll_backward", "dloss", dloss, dlogp.dtype);
}

namespace {
// Every operand (B, 3H) or (B, H) of x's dtype with unit column stride.
GruSizes gru_operands(std::string_view op, const View& h, std::initializer_list<const View*> wide,
                      std::initializer_list<const View*> narrow) {
  rank(op, "h", h, 2);
  floating(op, h);
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  for (const View* v : wide) shape(op, "a gate operand", *v, Shape{batch, 3 * hidden});
  for (const View* v : narrow) shape(op, "a state operand", *v, Shape{batch, hidden});
  for (std::initializer_list<const View*> group : {wide, narrow})
    for (const View* v : group) {
      dtype(op, "operand", *v, h.dtype);
      if (v->shape[1] > 1 && v->strides[1] != 1)
        fail("{}: operands need unit column stride, got shape {} with strides {}", op, v->shape.str(),
             v->strides.str());
    }
  return {batch, hidden};
}
}  // namespace

GruSizes gru_gates_args(const View& gi, const View& gh, const View& h, const View& out, const View& saved) {
  return gru_operands("gru_gates", h, {&gi, &gh, &saved}, {&out});
}

GruSizes gru_gates_backward_args(const View& saved, const View& gh, const View& h, const View& dout,
                                 const View& dgi, const View& dgh, const View& dh) {
  return gru_operands("gru_gates_backward", h, {&saved, &gh, &dgi, &dgh}, {&dout, &dh});
}

namespace {
void unit_last_stride(std::string_view op, std::string_view what, const View& v) {
  if (v.shape.size() > 0 && v.shape[v.shape.size() - 1] > 1 && v.strides[v.shape.size() - 1] != 1)
    fail("{}: {} needs a unit stride on its last axis, got shape {} with strides {}", op, what, v.shape.str(),
         v.strides.str());
}

AttentionSizes additive_operands(std::string_view op, const View& keys, const View& query, const View& v,
                                 const View& score) {
  rank(op, "keys", keys, 3);
  floating(op, keys);
  const int64_t batch = keys.shape[0], source = keys.shape[1], attention = keys.shape[2];
  shape(op, "query", query, Shape{batch, attention});
  shape(op, "v", v, Shape{attention});
  shape(op, "score", score, Shape{batch, source});
  const std::pair<const View*, std::string_view> operands[] = {
      {&keys, "keys"}, {&query, "query"}, {&v, "v"}, {&score, "score"}};
  for (const auto& [operand, what] : operands) {
    dtype(op, what, *operand, keys.dtype);
    unit_last_stride(op, what, *operand);
  }
  return {batch, source, attention};
}
}  // namespace

AttentionSizes additive_score_args(const View& keys, const View& query, const View& v, const View& score) {
  return additive_operands("additive_score", keys, query, v, score);
}

AttentionSizes additive_score_backward_args(const View& keys, const View& query, const View& v, const View& dscore,
                                            const View* dkeys, const View* dquery, const View* dv) {
  constexpr std::string_view op = "additive_score_backward";
  const AttentionSizes sizes = additive_operands(op, keys, query, v, dscore);
  const std::tuple<const View*, const View*, std::string_view> gradients[] = {
      {dkeys, &keys, "dkeys"}, {dquery, &query, "dquery"}, {dv, &v, "dv"}};
  for (const auto& [gradient, like, what] : gradients) {
    if (gradient == nullptr) continue;
    shape(op, what, *gradient, like->shape);
    dtype(op, what, *gradient, keys.dtype);
    unit_last_stride(op, what, *gradient);
  }
  return sizes;
}

int64_t adam_update_args(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                         const View* max_exp_avg_sq) {
  constexpr std::string_view op = "adam_update";
  floating(op, param);
  contiguous(op, "param", param);
  const std::pair<const View*, std::string_view> others[] = {
      {&grad, "grad"}, {&exp_avg, "exp_avg"}, {&exp_avg_sq, "exp_avg_sq"}, {max_exp_avg_sq, "max_exp_avg_sq"}};
  for (const auto& [v, what] : others) {
    if (v == nullptr) continue;
    shape(op, what, *v, param.shape);
    dtype(op, what, *v, param.dtype);
    contiguous(op, what, *v);
  }
  return param.numel();
}

int64_t dropout_mask_args(const View& out, double p) {
  floating("dropout_mask", out);
  contiguous("dropout_mask", "out", out);
  if (!(p >= 0 && p < 1)) fail("dropout_mask: p must be in [0, 1), got {}", p);
  return out.numel();
}

void topk_rows_args(const View& x, const View& indices) {
  rank("topk_rows", "x", x, 2);
  rank("topk_rows", "indices", indices, 2);
  floating("topk_rows", x);
  dtype("topk_rows", "indices", indices, DType::i64);
  contiguous("topk_rows", "indices", indices);
  if (indices.shape[0] != x.shape[0] || indices.shape[1] > x.shape[1])
    fail("topk_rows: indices {} for x {}: expected (R, k) with k <= n for x (R, n)", indices.shape.str(),
         x.shape.str());
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
