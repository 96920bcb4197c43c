#pragma once
// Computing on tensors without the tape: each call allocates its result,
// picks the backend of the tensors' device and runs a primitive kernel
// (core/dispatch/primitives.h). (Fused kernels are called from their ops:
// kernels/<family>/.) Nothing here is recorded; ops use these in their
// forward and backward functions.
#include "core/dispatch/backend.h"
#include "core/dispatch/primitives.h"
#include "core/tensor/tensor.h"

namespace tg::compute {

// Every kernel call that writes into a tensor it did not allocate says so:
// a value saved for backward then sees that its memory changed (core/autograd/saved.h).
void mark_written(const Tensor& t);

// A new contiguous tensor with `like`'s dtype and device.
Tensor empty_like(const Tensor& like, const Shape& shape);
Tensor empty_like(const Tensor& like, const Shape& shape, DType dtype);
Tensor zeros_like(const Tensor& like);

void fill(const Tensor& out, double value);
// dst = src (src broadcast to dst's shape, dtype converted; dst may be a view).
void copy_into(const Tensor& src, const Tensor& dst);
// dst += src (src broadcast to dst's shape; dst may be a view).
void add_into(const Tensor& dst, const Tensor& src);

Tensor unary(UnaryOp op, const Tensor& x, double scalar = 0);
// dx += f'(x) dy
void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy,
                    const Tensor& dx, double scalar = 0);
// a (op) b with broadcasting; comparisons give bool.
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// a = a (op) b in place, b broadcast to a's shape.
void binary_into(BinaryOp op, const Tensor& a, const Tensor& b);

// Reduction over one axis, keeping it with size 1.
Tensor reduce(ReduceOp op, const Tensor& x, int axis, Tensor* argmax = nullptr);
// g summed over the dimensions that were broadcast from `shape`.
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

// c (+)= a @ b for 3-D views (B, M, K) @ (B, K, N); c contiguous (B, M, N), or
// (..., M, N) with its leading dimensions' product B (read as (B, M, N)).
void matmul_into(const Tensor& a, const Tensor& b, const Tensor& c, bool accumulate);
// c (+)= a @ b for matrices (M, K) @ (K, N); c contiguous (M, N). a and b may
// be strided (a transpose is a stride swap). No tensor is allocated.
void matmul2d_into(const Tensor& a, const Tensor& b, const Tensor& c, bool accumulate);

// out[i, :] = table[index[i], :]; table (V, D), index int64 (N) -> (N, D).
Tensor gather_rows(const Tensor& table, const Tensor& index);
// table[index[i], :] += src[i, :]
void scatter_add_rows(const Tensor& src, const Tensor& index, const Tensor& table);

// Row-wise (log-)softmax of a contiguous (R, C) tensor, and its backward (dx +=).
Tensor softmax_rows(const Tensor& x, bool log);
void softmax_rows_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log);

}  // namespace tg::compute
