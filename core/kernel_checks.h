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
// The values of host index views (read through their stride), checked before
// a kernel runs: every index of the 1-D int64 `index` in [0, rows); every
// target in [0, classes) or equal to ignore_index.
void indices_in_range(std::string_view op, const View& index, int64_t rows);
void targets_in_range(std::string_view op, const View& target, int64_t ignore_index, int64_t classes);

}  // namespace tg::checks
