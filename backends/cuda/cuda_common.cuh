#pragma once
// Device code shared by the CUDA backend's kernels (backends/cuda/cuda_primitives.cu)
// and the fused kernel families' CUDA bodies (kernels/<family>/*_cuda.cu):
// the GPU's math for core/dispatch/elementwise.h's functors, dtype dispatch, the
// strided element engine (map_elements), warp and block reductions, and the
// device's error report. nvcc only.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cfloat>
#include <cmath>
#include <type_traits>

#include "backends/cuda/cuda_primitives.h"

namespace tg::cuda_kernels {

constexpr int kThreads = 256;

// The GPU's math for the shared functors.
struct GpuMath {
  __device__ static float exp(float x) { return expf(x); }
  __device__ static double exp(double x) { return ::exp(x); }
  __device__ static float log(float x) { return logf(x); }
  __device__ static double log(double x) { return ::log(x); }
  __device__ static float sqrt(float x) { return sqrtf(x); }
  __device__ static double sqrt(double x) { return ::sqrt(x); }
  __device__ static float tanh(float x) { return tanhf(x); }
  __device__ static double tanh(double x) { return ::tanh(x); }
  __device__ static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
  __device__ static double sigmoid(double x) { return 1.0 / (1.0 + ::exp(-x)); }
  __device__ static float pow(float x, float s) { return powf(x, s); }
  __device__ static double pow(double x, double s) { return ::pow(x, s); }
  __device__ static float abs(float x) { return fabsf(x); }
  __device__ static double abs(double x) { return fabs(x); }
  __device__ static float erf(float x) { return erff(x); }
  __device__ static double erf(double x) { return ::erf(x); }
  __device__ static float sin(float x) { return sinf(x); }
  __device__ static double sin(double x) { return ::sin(x); }
  __device__ static float cos(float x) { return cosf(x); }
  __device__ static double cos(double x) { return ::cos(x); }
};

template <typename T>
constexpr bool is_half_v = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

// Value conversion between element types; anything non-zero is true. 16-bit
// floats go through float32, rounding to nearest even (core/types/visit_dtype.h's
// convert_element).
template <typename To, typename From> __device__ To convert(From v) {
  if constexpr (is_half_v<From>)
    return convert<To>(static_cast<float>(v));
  else if constexpr (std::is_same_v<To, bool>)
    return v != From(0);
  else if constexpr (is_half_v<To>)
    return To(static_cast<float>(v));
  else
    return static_cast<To>(v);
}

// Calls fn.template operator()<T>() for the C++ type of `dtype`.
template <typename Fn> void visit_any(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: return fn.template operator()<float>();
    case DType::f64: return fn.template operator()<double>();
    case DType::i64: return fn.template operator()<int64_t>();
    case DType::boolean: return fn.template operator()<bool>();
    case DType::f16: return fn.template operator()<__half>();
    case DType::bf16: return fn.template operator()<__nv_bfloat16>();
  }
}
template <typename Fn> void visit_float(DType dtype, Fn&& fn) {
  if (dtype == DType::f64) return fn.template operator()<double>();
  return fn.template operator()<float>();
}

inline int blocks_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<int>(blocks < 65536 ? (blocks < 1 ? 1 : blocks) : 65536);
}

// ---------------------------------------------------------------------------
// the strided engine: N operands of one shape, operand 0 is the output

template <int N> struct Indexer {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t strides[N][kMaxRank] = {};
  bool contiguous = true;  // rank ≤ 1 and every stride 1: offset = index

  __device__ void offsets(int64_t i, int64_t (&o)[N]) const {
#pragma unroll
    for (int n = 0; n < N; ++n) o[n] = contiguous ? i : 0;
    if (contiguous) return;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t q = i / shape[d], r = i - q * shape[d];
      i = q;
#pragma unroll
      for (int n = 0; n < N; ++n) o[n] += r * strides[n][d];
    }
  }
};

// Drops dimensions of size 1 and merges neighbours that every operand walks
// contiguously: (d, d+1) merge when stride[d] == stride[d+1] * shape[d+1].
template <int N> Indexer<N> make_indexer(const Array* const (&ops)[N]) {
  Indexer<N> ix;
  const Array& first = *ops[0];
  for (int d = 0; d < first.rank; ++d) {
    if (first.shape[d] == 1) continue;
    const int r = ix.rank;
    bool merge = r > 0;
    for (int n = 0; n < N && merge; ++n)
      merge = ix.strides[n][r - 1] == ops[n]->strides[d] * first.shape[d];
    if (merge) {
      ix.shape[r - 1] *= first.shape[d];
      for (int n = 0; n < N; ++n) ix.strides[n][r - 1] = ops[n]->strides[d];
    } else {
      ix.shape[r] = first.shape[d];
      for (int n = 0; n < N; ++n) ix.strides[n][r] = ops[n]->strides[d];
      ++ix.rank;
    }
  }
  ix.contiguous = ix.rank <= 1;
  for (int n = 0; n < N && ix.contiguous; ++n) ix.contiguous = ix.rank == 0 || ix.strides[n][0] == 1;
  return ix;
}

template <int N, typename Body> __global__ void map_kernel(int64_t n, Indexer<N> ix, Body body) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t o[N];
    ix.offsets(i, o);
    body(o);
  }
}

// Runs body(offsets) for every element of ops[0]'s shape.
template <int N, typename Body> void map_elements(const Context& ctx, const Array* const (&ops)[N], Body body) {
  const int64_t n = ops[0]->numel();
  if (n == 0) return;
  map_kernel<N><<<blocks_for(n), kThreads, 0, ctx.stream>>>(n, make_indexer<N>(ops), body);
}

// ---------------------------------------------------------------------------
// warp and group reductions

template <typename T> __device__ T warp_sum(T v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// A running maximum with the index of its first occurrence; NaN wins over
// numbers, and among NaNs and equal values the lower index wins, as in a
// left-to-right scan.
template <typename T> struct ArgMax {
  T value;
  int64_t index;
};
template <typename T> __device__ ArgMax<T> better(ArgMax<T> a, ArgMax<T> b) {
  const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
  if (a_nan != b_nan) return a_nan ? a : b;
  if (!a_nan && a.value != b.value) return a.value > b.value ? a : b;
  return a.index <= b.index ? a : b;
}
template <typename T> __device__ ArgMax<T> warp_argmax(ArgMax<T> v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    ArgMax<T> other{__shfl_xor_sync(0xffffffffu, v.value, offset),
                    __shfl_xor_sync(0xffffffffu, v.index, offset)};
    v = better(v, other);
  }
  return v;
}

// Sum of v over a block of G threads (G = 32 or a multiple of 32, one group
// per block when G > 32); every thread of the group gets the result.
template <int G> __device__ double group_sum(double v) {
  v = warp_sum(v);
  if constexpr (G > 32) {
    __shared__ double partial[G / 32];
    __syncthreads();  // partial may still be read from a previous call
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
    __syncthreads();
    v = 0;
    for (int w = 0; w < G / 32; ++w) v += partial[w];
  }
  return v;
}

template <int G, typename T> __device__ ArgMax<T> group_argmax(ArgMax<T> v) {
  v = warp_argmax(v);
  if constexpr (G > 32) {
    __shared__ T values[G / 32];
    __shared__ int64_t indices[G / 32];
    __syncthreads();
    if (threadIdx.x % 32 == 0) values[threadIdx.x / 32] = v.value, indices[threadIdx.x / 32] = v.index;
    __syncthreads();
    v = {values[0], indices[0]};
    for (int w = 1; w < G / 32; ++w) v = better(v, ArgMax<T>{values[w], indices[w]});
  }
  return v;
}

__device__ inline void report(DeviceError* error, DeviceErrorCode code, int64_t value, int64_t position, int64_t limit) {
  if (atomicCAS(&error->code, 0, static_cast<int>(code)) == 0) {
    error->value = value;
    error->position = position;
    error->limit = limit;
    __threadfence_system();
  }
}

// A contiguous (rows, cols) grid, to run a body once per element of it.
inline Array grid(int64_t rows, int64_t cols) {
  Array g;
  g.rank = 2, g.shape[0] = rows, g.shape[1] = cols, g.strides[0] = cols, g.strides[1] = 1;
  return g;
}

}  // namespace tg::cuda_kernels
