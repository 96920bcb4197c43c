#pragma once
// Launchers of the CUDA kernels (backends/cuda/cuda_kernels.cu). The CUDA backend
// (backends/cuda/cuda_backend.cpp) checks the arguments, turns Views into Arrays and
// calls these; each queues its kernels on the context's stream and returns
// without waiting. Plain structs only, so that nvcc compiles this file
// without tapegrad's other headers.
#include <cstdint>

#include "core/adam_update.h"
#include "core/dtype.h"
#include "core/elementwise.h"

struct CUstream_st;

namespace tg::cuda_kernels {

constexpr int kMaxRank = 8;

// A strided tensor in device memory; strides in elements, stride 0 broadcasts.
struct Array {
  void* data = nullptr;
  DType dtype = DType::f32;
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= shape[d];
    return n;
  }
};

// The first bad index or target a kernel met, written by the device into
// host-mapped memory and turned into a tg::Error when the host next waits.
enum class DeviceErrorCode : int { none = 0, gather_index, scatter_index, nll_target, nll_backward_target };
struct DeviceError {
  int code = 0;          // a DeviceErrorCode; the first kernel to fail sets it
  int64_t value = 0;     // the bad index or target
  int64_t position = 0;  // its row
  int64_t limit = 0;     // rows of the table, or classes
};

struct Context {
  CUstream_st* stream = nullptr;
  DeviceError* error = nullptr;  // host-mapped, device-visible
};

// out = value
void fill(const Context& ctx, const Array& out, double value);
// out = src converted to out's dtype (any of the four); shapes equal.
void copy(const Context& ctx, const Array& src, const Array& out);
// out = f(x, s)
void unary(const Context& ctx, UnaryOp op, const Array& x, const Array& out, double s);
// dx += f'(x) dy
void unary_backward(const Context& ctx, UnaryOp op, const Array& x, const Array& y, const Array& dy,
                    const Array& dx, double s);
// out = a (op) b; out may alias a
void binary(const Context& ctx, BinaryOp op, const Array& a, const Array& b, const Array& out);
// out = cond ? a : b
void where(const Context& ctx, const Array& cond, const Array& a, const Array& b, const Array& out);
// out = sum or max of x over `axis`; out contiguous with that axis of size 1;
// argmax (int64, like out) gets the first maximum's index when non-null.
void reduce(const Context& ctx, bool is_max, const Array& x, int axis, const Array& out, const Array* argmax);
// out[i, :] = table[index[i], :]
void gather_rows(const Context& ctx, const Array& table, const Array& index, const Array& out);
// table[index[i], :] += src[i, :], deterministic: rows are added in order.
void scatter_add_rows(const Context& ctx, const Array& src, const Array& index, const Array& table);
// Row-wise (log-)softmax of contiguous (rows, cols), and its backward (dx +=).
void softmax(const Context& ctx, const Array& x, const Array& out, int64_t rows, int64_t cols, bool log);
void softmax_backward(const Context& ctx, const Array& y, const Array& dy, const Array& dx, int64_t rows,
                      int64_t cols, bool log);
// loss_i = -(1-ε) logp[i, t_i] - ε/C Σ_c logp[i, c]; 0 where t_i = ignore_index.
void nll(const Context& ctx, const Array& logp, const Array& target, int64_t ignore_index, double smoothing,
         const Array& loss);
// dlogp[i, c] += dloss_i * -((1-ε)[c = t_i] + ε/C)
void nll_backward(const Context& ctx, const Array& target, int64_t ignore_index, double smoothing,
                  const Array& dloss, const Array& dlogp);

// Fused GRU step (formulas in core/backend.h); rows may be strided, columns
// unit-strided; one thread per (b, j).
void gru_gates(const Context& ctx, const Array& gi, const Array& gh, const Array& h, const Array& out,
               const Array& saved);
void gru_gates_backward(const Context& ctx, const Array& saved, const Array& gh, const Array& h, const Array& dout,
                        const Array& dgi, const Array& dgh, const Array& dh);

// Additive attention scores (formulas in core/backend.h); last axes
// unit-strided. Forward: one thread per (b, s). Backward: one thread per
// element of each gradient asked for (null: not wanted), summing over s (dquery)
// or over b and s (dv) in order, so results do not depend on scheduling.
void additive_score(const Context& ctx, const Array& keys, const Array& query, const Array& v, const Array& score);
void additive_score_backward(const Context& ctx, const Array& keys, const Array& query, const Array& v,
                             const Array& dscore, const Array* dkeys, const Array* dquery, const Array* dv);

// CTC loss and its gradient (core/backend.h's ctc_loss; backends/cuda/cuda_ctc.cu):
// one block per sequence; scratch holds 2·B·T·(2S + 1) doubles (α and β).
void ctc_loss(const Context& ctx, const Array& log_probs, const Array& targets, const Array& input_lengths,
              const Array& target_lengths, int64_t blank, const Array& loss, const Array* grad, double* scratch);

// indices (R, k) = each row's first k columns in top-k order (core/topk_order.h),
// x (R, n) float (backends/cuda/cuda_topk.cu): one block per row, k passes.
void topk_rows(const Context& ctx, const Array& x, bool largest, const Array& indices);

// out (contiguous float) = random_bits::dropout_scale(key, i, keep, scale).
void dropout_mask(const Context& ctx, const Array& out, uint64_t key, double keep, double scale);

// One Adam step in place (core/adam_update.h), contiguous operands of one
// shape; v_max null without Amsgrad. One thread per element.
void adam_update(const Context& ctx, const Array& param, const Array& grad, const Array& exp_avg,
                 const Array& exp_avg_sq, const Array* max_exp_avg_sq, const AdamStep& step);

}  // namespace tg::cuda_kernels
