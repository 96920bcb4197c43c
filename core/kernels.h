#pragma once
// Tensor-level calls of the backend kernels: allocate the result, pick the
// backend of the tensors' device, run the kernel. Nothing here is recorded on
// the tape; ops use these in their forward and backward functions.
#include "core/backend.h"
#include "core/tensor.h"

namespace tg::kernels {

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

// c (+)= a @ b for 3-D views (B, M, K) @ (B, K, N); c contiguous (B, M, N).
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

// Per-row negative log-likelihood of log-probabilities (R, C), targets int64 (R).
Tensor nll_rows(const Tensor& logp, const Tensor& target, int64_t ignore_index, double smoothing);
void nll_rows_backward(const Tensor& target, int64_t ignore_index, double smoothing, const Tensor& dloss,
                       const Tensor& dlogp);

// One Adam step in place (core/adam_update.h); max_exp_avg_sq null without
// Amsgrad. All on one device, same shape and float dtype, contiguous.
void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor* max_exp_avg_sq, const AdamStep& step);

// The fused kernels (formulas in core/backend.h); operands as the backend
// wants them (the ops in ops/gru_gates.cpp and ops/additive_score.cpp
// arrange that), outputs written with "=", except where "+=" is said.
void gru_gates(const Tensor& gi, const Tensor& gh, const Tensor& h, const Tensor& out, const Tensor& saved);
void gru_gates_backward(const Tensor& saved, const Tensor& gh, const Tensor& h, const Tensor& dout,
                        const Tensor& dgi, const Tensor& dgh, const Tensor& dh);
void additive_score(const Tensor& keys, const Tensor& query, const Tensor& v, const Tensor& score);
// dkeys, dquery, dv += (each may be undefined: no gradient wanted).
void additive_score_backward(const Tensor& keys, const Tensor& query, const Tensor& v, const Tensor& dscore,
                             const Tensor& dkeys, const Tensor& dquery, const Tensor& dv);

// CTC losses (B) and, when grad is defined, ∂loss/∂log_probs (T, B, C), on
// log_probs' device; arguments as core/backend.h says.
void ctc_loss(const Tensor& log_probs, const Tensor& targets, const Tensor& input_lengths,
              const Tensor& target_lengths, int64_t blank, const Tensor& loss, const Tensor& grad);

// The columns of each row's k first entries in top-k order (core/topk_order.h):
// x (R, n) float, any strides -> int64 (R, k) on x's device.
Tensor topk_rows(const Tensor& x, int64_t k, bool largest);

// Dropout's factors, a new contiguous tensor: 1 / (1 - p) where draw i of the
// stream `key` keeps element i (core/random_bits.h), else 0.
Tensor dropout_mask(const Shape& shape, TensorOptions options, uint64_t key, double p);

}  // namespace tg::kernels
