#pragma once
// Argument checks of the backend kernels, written once above the backends:
// each function throws a tg::Error naming the kernel, the operand and what
// was expected, or returns normally. A backend calls the check of a kernel
// before running it. Index and target values are checked by backends that
// can read them (the host ones); a device backend checks them on the device.
#include "core/backend.h"

namespace tg::checks {

void dtype(std::string_view op, std::string_view what, const View& v, DType expected);
void shape(std::string_view op, std::string_view what, const View& v, const Shape& expected);
void rank(std::string_view op, std::string_view what, const View& v, int rank);
void contiguous(std::string_view op, std::string_view what, const View& v);
void floating(std::string_view op, const View& v);

void copy_args(const View& src, const View& out);
void unary_args(const View& x, const View& out);
void unary_backward_args(const View& x, const View& y, const View& dy, const View& dx);
void binary_args(BinaryOp op, const View& a, const View& b, const View& out);
void where_args(const View& cond, const View& a, const View& b, const View& out);
// Returns the axis in [0, rank).
int reduce_args(ReduceOp op, const View& x, int axis, const View& out, const View* argmax);
void matmul_args(const View& a, const View& b, const View& c, double beta);
void gather_rows_args(const View& table, const View& index, const View& out);
void scatter_add_rows_args(const View& src, const View& index, const View& table);

// A contiguous (..., C) view seen as R rows of C.
struct Rows {
  int64_t rows, cols;
};
Rows softmax_args(const View& x, const View& out);
Rows softmax_backward_args(const View& y, const View& dy, const View& dx);
void nll_args(const View& logp, const View& target, const View& loss);
void nll_backward_args(const View& target, const View& dloss, const View& dlogp);
// Both return (B, H).
struct GruSizes {
  int64_t batch, hidden;
};
GruSizes gru_gates_args(const View& gi, const View& gh, const View& h, const View& out, const View& saved);
GruSizes gru_gates_backward_args(const View& saved, const View& gh, const View& h, const View& dout,
                                 const View& dgi, const View& dgh, const View& dh);
// Both return (B, S, A); operands of the keys' dtype, last axes unit-strided,
// gradients (any may be null) shaped like their operands.
struct AttentionSizes {
  int64_t batch, source, attention;
};
AttentionSizes additive_score_args(const View& keys, const View& query, const View& v, const View& score);
AttentionSizes additive_score_backward_args(const View& keys, const View& query, const View& v, const View& dscore,
                                            const View* dkeys, const View* dquery, const View* dv);
// Returns the element count.
int64_t adam_update_args(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                         const View* max_exp_avg_sq);
// out contiguous float, p in [0, 1); returns the element count.
int64_t dropout_mask_args(const View& out, double p);
// x (R, n) float, indices (R, k) int64 contiguous with k <= n.
void topk_rows_args(const View& x, const View& indices);

// The values of host index views (read through their stride), checked before
// a kernel runs: every index of the 1-D int64 `index` in [0, rows); every
// target in [0, classes) or equal to ignore_index.
void indices_in_range(std::string_view op, const View& index, int64_t rows);
void targets_in_range(std::string_view op, const View& target, int64_t ignore_index, int64_t classes);

}  // namespace tg::checks
