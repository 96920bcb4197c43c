#pragma once
// Launchers of the CUDA kernels (backends/cuda/cuda_primitives.cu). The CUDA backend
// (backends/cuda/cuda_backend.cpp) checks the arguments, turns Views into Arrays and
// calls these; each queues its kernels on the context's stream and returns
// without waiting. Plain structs only, so that nvcc compiles this file
// without tapegrad's other headers.
#include <cstddef>
#include <cstdint>

#include "core/types/dtype.h"
#include "core/dispatch/elementwise.h"

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
// table[index[i], :] += src[i, :], deterministic: rows are added in order
// (backends/cuda/cuda_scatter_add.cu). `scratch` holds `scratch_bytes` =
// scatter_add_rows_scratch_bytes(rows, table rows) of device memory.
size_t scatter_add_rows_scratch_bytes(int64_t rows, int64_t table_rows);
void scatter_add_rows(const Context& ctx, const Array& src, const Array& index, const Array& table, void* scratch,
                      size_t scratch_bytes);
// Row-wise (log-)softmax of contiguous (rows, cols), and its backward (dx +=).
void softmax(const Context& ctx, const Array& x, const Array& out, int64_t rows, int64_t cols, bool log);
void softmax_backward(const Context& ctx, const Array& y, const Array& dy, const Array& dx, int64_t rows,
                      int64_t cols, bool log);

}  // namespace tg::cuda_kernels
