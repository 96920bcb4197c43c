#pragma once
// The primitive kernels every op is made of: fill, copy, unary and its
// backward, binary, where, reduce, matmul, gather and scatter of rows,
// softmax and its backward. Each is a kernel table (core/dispatch/kernel_table.h)
// like a fused family's: its argument struct, its one check (here, in
// primitives.cpp), its reference body (primitives_reference.cpp) and the
// bodies backends register (backends/cpu, backends/cuda). Kernels see
// tensors as Views; a stride of 0 repeats an element (broadcasting); kernels
// that write `out` never resize it; those whose comment says "+=" accumulate.
//
// The calls below take the backend and the operands; core/tensor/compute.h has the
// same on tensors (allocating results, picking the tensors' backend). The
// argument structs refer to the caller's Views rather than copy them: a
// primitive runs for every op, often on a few elements.
#include <cstdint>
#include <string_view>

#include "core/dispatch/elementwise.h"  // UnaryOp, BinaryOp and each one's formula
#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg {

std::string_view unary_op_name(UnaryOp op);
std::string_view binary_op_name(BinaryOp op);

enum class ReduceOp : uint8_t { sum, max };

namespace primitives {

// out = value (out: any dtype, any strides)
struct FillArgs {
  const View &out;
  double value;
};
// out = src, converting dtype; src read through its strides (stride 0 broadcasts), out may be strided.
struct CopyArgs {
  const View &src, &out;
};
// out = f(x, scalar); x and out float, same shape.
struct UnaryArgs {
  UnaryOp op;
  const View &x, &out;
  double scalar;
};
// dx += f'(x) * dy, y = f(x) given too so that tanh/sigmoid/exp reuse it. All same shape.
struct UnaryBackwardArgs {
  UnaryOp op;
  const View &x, &y, &dy, &dx;
  double scalar;
};
// out = a (op) b; a and b already broadcast to out's shape (stride 0). Comparisons write bool out.
// out may alias a (in-place accumulate).
struct BinaryArgs {
  BinaryOp op;
  const View &a, &b, &out;
};
// out = cond ? a : b; cond bool; all broadcast to out's shape.
struct WhereArgs {
  const View &cond, &a, &b, &out;
};
// out = reduce of x over `axis` (in [-rank, rank)); out has x's shape with that axis of size 1, contiguous.
// For max, `argmax` (int64, out's shape), when non-null, receives the index of the first maximum.
struct ReduceArgs {
  ReduceOp op;
  const View &x;
  int axis;
  const View &out;
  const View* argmax;
};
// c = a @ b + beta * c, batched: a (B, M, K), b (B, K, N), c (B, M, N) contiguous; a and b may be strided
// (a transpose is a stride swap); beta 0 or 1. a and b float16 or bfloat16: products and sums in float32
// (or wider), c of their dtype or float32.
struct MatmulArgs {
  const View &a, &b, &c;
  double beta;
};
// out[i, :] = table[index[i], :]; table (V, D), index int64 (N), out (N, D).
struct GatherRowsArgs {
  const View &table, &index, &out;
};
// table[index[i], :] += src[i, :]; src (N, D), index int64 (N), table (V, D).
struct ScatterAddRowsArgs {
  const View &src, &index, &table;
};
// Row-wise over the last axis, contiguous (R, C):
//   softmax  y = e^(x - max) / Σ e^(x - max)
//   log      y = x - max - ln Σ e^(x - max)
struct SoftmaxArgs {
  const View &x, &out;
  bool log;
};
// dx += y * (dy - Σ dy*y)   (softmax)
// dx += dy - e^y * Σ dy     (log softmax, y = log-probabilities)
struct SoftmaxBackwardArgs {
  const View &y, &dy, &dx;
  bool log;
};

KernelTable<FillArgs>& fill_table();
KernelTable<CopyArgs>& copy_table();
KernelTable<UnaryArgs>& unary_table();
KernelTable<UnaryBackwardArgs>& unary_backward_table();
KernelTable<BinaryArgs>& binary_table();
KernelTable<WhereArgs>& where_table();
KernelTable<ReduceArgs>& reduce_table();
KernelTable<MatmulArgs>& matmul_table();
KernelTable<GatherRowsArgs>& gather_rows_table();
KernelTable<ScatterAddRowsArgs>& scatter_add_rows_table();
KernelTable<SoftmaxArgs>& softmax_table();
KernelTable<SoftmaxBackwardArgs>& softmax_backward_table();

inline void fill(Backend& backend, const View& out, double value) { fill_table().run(backend, {out, value}); }
inline void copy(Backend& backend, const View& src, const View& out) { copy_table().run(backend, {src, out}); }
inline void unary(Backend& backend, UnaryOp op, const View& x, const View& out, double scalar) {
  unary_table().run(backend, {op, x, out, scalar});
}
inline void unary_backward(Backend& backend, UnaryOp op, const View& x, const View& y, const View& dy,
                           const View& dx, double scalar) {
  unary_backward_table().run(backend, {op, x, y, dy, dx, scalar});
}
inline void binary(Backend& backend, BinaryOp op, const View& a, const View& b, const View& out) {
  binary_table().run(backend, {op, a, b, out});
}
inline void where(Backend& backend, const View& cond, const View& a, const View& b, const View& out) {
  where_table().run(backend, {cond, a, b, out});
}
inline void reduce(Backend& backend, ReduceOp op, const View& x, int axis, const View& out, const View* argmax) {
  reduce_table().run(backend, {op, x, axis, out, argmax});
}
inline void matmul(Backend& backend, const View& a, const View& b, const View& c, double beta) {
  matmul_table().run(backend, {a, b, c, beta});
}
inline void gather_rows(Backend& backend, const View& table, const View& index, const View& out) {
  gather_rows_table().run(backend, {table, index, out});
}
inline void scatter_add_rows(Backend& backend, const View& src, const View& index, const View& table) {
  scatter_add_rows_table().run(backend, {src, index, table});
}
inline void softmax(Backend& backend, const View& x, const View& out, bool log) {
  softmax_table().run(backend, {x, out, log});
}
inline void softmax_backward(Backend& backend, const View& y, const View& dy, const View& dx, bool log) {
  softmax_backward_table().run(backend, {y, dy, dx, log});
}

// For bodies, after the check: reduce's axis in [0, rank); softmax's operand as R rows of C.
int reduce_axis(const ReduceArgs& args);
struct Rows {
  int64_t rows, cols;
};
Rows as_rows(const View& v);

}  // namespace primitives
}  // namespace tg
