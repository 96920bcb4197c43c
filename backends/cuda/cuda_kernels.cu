// The CUDA kernels behind the CUDA backend. Each launcher (backends/cuda/cuda_kernels.h)
// queues work on the stream it is given and returns at once.
//
// Elementwise kernels share one strided engine: the operands' dimensions are
// first merged where every operand is contiguous across them (so most calls
// become 1-D), then each thread turns a linear index into one offset per
// operand. The functions themselves come from core/elementwise.h, shared with
// the cpu backend.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cfloat>
#include <cmath>

#include "backends/cuda/cuda_kernels.h"
#include "core/random_bits.h"

namespace tg::cuda_kernels {

namespace {

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
};

template <typename T>
constexpr bool is_half_v = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

// Value conversion between element types; anything non-zero is true. 16-bit
// floats go through float32, rounding to nearest even (core/dispatch.h's
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

int blocks_for(int64_t n, int threads = kThreads) {
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

__device__ void report(DeviceError* error, DeviceErrorCode code, int64_t value, int64_t position, int64_t limit) {
  if (atomicCAS(&error->code, 0, static_cast<int>(code)) == 0) {
    error->value = value;
    error->position = position;
    error->limit = limit;
    __threadfence_system();
  }
}

// ---------------------------------------------------------------------------
// reduce: output o (over x's shape without the axis) reduces x[base(o) + k*step]

template <typename T> struct ReduceArgs {
  const T* x;
  T* out;
  int64_t* argmax;  // null unless wanted
  int64_t outputs, n, step;
  Indexer<2> ix;  // offsets of (out, x) for an output index
};

// G threads per output (1, 32 or 256); G=1 suits many short reductions, the
// groups long ones.
template <int G, typename T> __global__ void reduce_sum_kernel(ReduceArgs<T> a) {
  const int lane = G == 1 ? 0 : threadIdx.x % G;
  const int64_t groups_per_block = blockDim.x / G;
  for (int64_t o = blockIdx.x * groups_per_block + threadIdx.x / G; o < a.outputs;
       o += int64_t(gridDim.x) * groups_per_block) {
    int64_t off[2];
    a.ix.offsets(o, off);
    double acc = 0;
    for (int64_t k = lane; k < a.n; k += G) acc += double(a.x[off[1] + k * a.step]);
    if constexpr (G > 1) acc = group_sum<G>(acc);
    if (lane == 0) a.out[off[0]] = T(acc);
  }
}

template <int G, typename T> __global__ void reduce_max_kernel(ReduceArgs<T> a) {
  const int lane = G == 1 ? 0 : threadIdx.x % G;
  const int64_t groups_per_block = blockDim.x / G;
  for (int64_t o = blockIdx.x * groups_per_block + threadIdx.x / G; o < a.outputs;
       o += int64_t(gridDim.x) * groups_per_block) {
    int64_t off[2];
    a.ix.offsets(o, off);
    ArgMax<T> best{T(0), INT64_MAX};
    bool any = false;
    for (int64_t k = lane; k < a.n; k += G) {
      const ArgMax<T> v{a.x[off[1] + k * a.step], k};
      best = any ? better(best, v) : v;
      any = true;
    }
    if (!any) best = {-INFINITY, INT64_MAX};  // a lane with nothing: loses to anything
    if constexpr (G > 1) best = group_argmax<G>(best);
    if (lane == 0) {
      a.out[off[0]] = best.value;
      if (a.argmax != nullptr) a.argmax[off[0]] = best.index;
    }
  }
}

template <int G, typename T> void launch_reduce(const Context& ctx, bool is_max, const ReduceArgs<T>& a) {
  const int threads = G == 1 ? kThreads : (G > kThreads ? G : kThreads);
  const int per_block = threads / G;
  const int blocks = blocks_for(a.outputs, per_block);
  if (is_max)
    reduce_max_kernel<G, T><<<blocks, threads, 0, ctx.stream>>>(a);
  else
    reduce_sum_kernel<G, T><<<blocks, threads, 0, ctx.stream>>>(a);
}

// ---------------------------------------------------------------------------
// row kernels: G threads per row of a contiguous (rows, cols) array

template <int G, typename T>
__global__ void softmax_kernel(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  const int lane = threadIdx.x % G;
  const int64_t per_block = blockDim.x / G;
  for (int64_t r = blockIdx.x * per_block + threadIdx.x / G; r < rows; r += int64_t(gridDim.x) * per_block) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    ArgMax<T> m{-INFINITY, 0};
    for (int64_t c = lane; c < cols; c += G) m = better(m, ArgMax<T>{xr[c], c});
    const T max = group_argmax<G>(m).value;
    double sum = 0;
    for (int64_t c = lane; c < cols; c += G) sum += double(GpuMath::exp(T(xr[c] - max)));
    sum = group_sum<G>(sum);
    if (log) {
      const T log_sum = T(::log(sum));
      for (int64_t c = lane; c < cols; c += G) yr[c] = xr[c] - max - log_sum;
    } else {
      const T scale = T(1.0 / sum);
      for (int64_t c = lane; c < cols; c += G) yr[c] = GpuMath::exp(T(xr[c] - max)) * scale;
    }
  }
}

template <int G, typename T>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  const int lane = threadIdx.x % G;
  const int64_t per_block = blockDim.x / G;
  for (int64_t r = blockIdx.x * per_block + threadIdx.x / G; r < rows; r += int64_t(gridDim.x) * per_block) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    double sum = 0;  // Σ dy (log) or Σ dy*y (softmax)
    for (int64_t c = lane; c < cols; c += G) sum += log ? double(dyr[c]) : double(dyr[c]) * yr[c];
    const T s = T(group_sum<G>(sum));
    for (int64_t c = lane; c < cols; c += G)
      dxr[c] += log ? dyr[c] - GpuMath::exp(yr[c]) * s : yr[c] * (dyr[c] - s);
  }
}

template <int G, typename T>
__global__ void nll_kernel(const T* logp, const int64_t* target, int64_t target_stride, int64_t ignore_index,
                           double smoothing, T* loss, int64_t loss_stride, int64_t rows, int64_t cols,
                           DeviceError* error) {
  const int lane = threadIdx.x % G;
  const int64_t per_block = blockDim.x / G;
  for (int64_t r = blockIdx.x * per_block + threadIdx.x / G; r < rows; r += int64_t(gridDim.x) * per_block) {
    const int64_t t = target[r * target_stride];
    const bool bad = t != ignore_index && (t < 0 || t >= cols);
    double sum = 0;
    if (smoothing != 0 && t != ignore_index && !bad)
      for (int64_t c = lane; c < cols; c += G) sum += double(logp[r * cols + c]);
    sum = group_sum<G>(sum);
    if (lane != 0) continue;
    if (bad) report(error, DeviceErrorCode::nll_target, t, r, cols);
    double l = 0;
    if (t != ignore_index && !bad) l = -(1 - smoothing) * double(logp[r * cols + t]) - smoothing / double(cols) * sum;
    loss[r * loss_stride] = T(l);
  }
}


// ---------------------------------------------------------------------------
// elementwise bodies: body(offsets) with offsets[0] the output's

template <typename T> struct FillBody {
  T* out;
  T value;
  __device__ void operator()(const int64_t (&o)[1]) const { out[o[0]] = value; }
};

template <typename S, typename D> struct CopyBody {
  D* out;
  const S* src;
  __device__ void operator()(const int64_t (&o)[2]) const { out[o[0]] = convert<D>(src[o[1]]); }
};

template <typename F, typename T> struct UnaryBody {
  T* y;
  const T* x;
  T s;
  __device__ void operator()(const int64_t (&o)[2]) const { y[o[0]] = F::template f<GpuMath>(x[o[1]], s); }
};

template <typename F, typename T> struct UnaryBackwardBody {
  T* dx;
  const T *x, *y, *dy;
  T s;
  __device__ void operator()(const int64_t (&o)[4]) const {
    dx[o[0]] += dy[o[3]] * F::template df<GpuMath>(x[o[1]], y[o[2]], s);
  }
};

template <typename F, typename T, typename Out> struct BinaryBody {
  Out* out;
  const T *a, *b;
  __device__ void operator()(const int64_t (&o)[3]) const { out[o[0]] = F::f(a[o[1]], b[o[2]]); }
};

template <typename T> struct WhereBody {
  T* out;
  const bool* cond;
  const T *a, *b;
  __device__ void operator()(const int64_t (&o)[4]) const { out[o[0]] = cond[o[1]] ? a[o[2]] : b[o[3]]; }
};

// out[i, j] = table[index[i], j] over a (rows, cols) grid.
template <typename T> struct GatherBody {
  T* out;
  const T* table;
  const int64_t* index;
  int64_t cols, table_rows, index_stride, t0, t1, o0, o1;
  DeviceError* error;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t i = o[0] / cols, j = o[0] - i * cols;
    const int64_t k = index[i * index_stride];
    if (k < 0 || k >= table_rows) {
      if (j == 0) report(error, DeviceErrorCode::gather_index, k, i, table_rows);
      out[i * o0 + j * o1] = T(0);
      return;
    }
    out[i * o0 + j * o1] = table[k * t0 + j * t1];
  }
};

// dlogp[i, c] += dloss_i * -((1-ε)[c = t_i] + ε/C) over a (rows, width)
// grid: width C when smoothing spreads over the row, else 1 (the target only).
template <typename T> struct NllBackwardBody {
  T* dlogp;
  const T* dloss;
  const int64_t* target;
  int64_t width, cols, target_stride, dloss_stride, ignore_index;
  double smoothing;
  DeviceError* error;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t i = o[0] / width, c = o[0] - i * width;
    const int64_t t = target[i * target_stride];
    if (t == ignore_index) return;
    if (t < 0 || t >= cols) {
      if (c == 0) report(error, DeviceErrorCode::nll_backward_target, t, i, cols);
      return;
    }
    const double g = dloss[i * dloss_stride];
    if (smoothing != 0) {
      double d = -g * smoothing / double(cols);
      if (c == t) d += -g * (1 - smoothing);
      dlogp[i * cols + c] += T(d);
    } else {
      dlogp[i * cols + t] += T(-g);
    }
  }
};

// A contiguous (rows, cols) grid, to run a body once per element of it.
Array grid(int64_t rows, int64_t cols) {
  Array g;
  g.rank = 2, g.shape[0] = rows, g.shape[1] = cols, g.strides[0] = cols, g.strides[1] = 1;
  return g;
}

}  // namespace

// ---------------------------------------------------------------------------
// launchers

void fill(const Context& ctx, const Array& out, double value) {
  visit_any(out.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&out}, FillBody<T>{static_cast<T*>(out.data), static_cast<T>(value)});
  });
}

void copy(const Context& ctx, const Array& src, const Array& out) {
  visit_any(src.dtype, [&]<typename S>() {
    visit_any(out.dtype, [&]<typename D>() {
      map_elements<2>(ctx, {&out, &src}, CopyBody<S, D>{static_cast<D*>(out.data), static_cast<const S*>(src.data)});
    });
  });
}

void unary(const Context& ctx, UnaryOp op, const Array& x, const Array& out, double scalar) {
  elementwise::visit_unary(op, [&]<typename F>() {
    visit_float(x.dtype, [&]<typename T>() {
      map_elements<2>(ctx, {&out, &x},
                      UnaryBody<F, T>{static_cast<T*>(out.data), static_cast<const T*>(x.data), T(scalar)});
    });
  });
}

void unary_backward(const Context& ctx, UnaryOp op, const Array& x, const Array& y, const Array& dy,
                    const Array& dx, double scalar) {
  elementwise::visit_unary(op, [&]<typename F>() {
    visit_float(x.dtype, [&]<typename T>() {
      map_elements<4>(ctx, {&dx, &x, &y, &dy},
                      UnaryBackwardBody<F, T>{static_cast<T*>(dx.data), static_cast<const T*>(x.data),
                                              static_cast<const T*>(y.data), static_cast<const T*>(dy.data),
                                              T(scalar)});
    });
  });
}

void binary(const Context& ctx, BinaryOp op, const Array& a, const Array& b, const Array& out) {
  elementwise::visit_binary(op, [&]<typename F>() {
    visit_float(a.dtype, [&]<typename T>() {
      using Out = decltype(F::f(T(), T()));
      map_elements<3>(ctx, {&out, &a, &b},
                      BinaryBody<F, T, Out>{static_cast<Out*>(out.data), static_cast<const T*>(a.data),
                                            static_cast<const T*>(b.data)});
    });
  });
}

void where(const Context& ctx, const Array& cond, const Array& a, const Array& b, const Array& out) {
  visit_any(a.dtype, [&]<typename T>() {
    map_elements<4>(ctx, {&out, &cond, &a, &b},
                    WhereBody<T>{static_cast<T*>(out.data), static_cast<const bool*>(cond.data),
                                 static_cast<const T*>(a.data), static_cast<const T*>(b.data)});
  });
}

void reduce(const Context& ctx, bool is_max, const Array& x, int axis, const Array& out, const Array* argmax) {
  // The outputs walk x's shape without the axis; out is contiguous over it.
  Array rest_x = x, rest_out;
  rest_x.rank = 0;
  for (int d = 0; d < x.rank; ++d) {
    if (d == axis) continue;
    rest_x.shape[rest_x.rank] = x.shape[d];
    rest_x.strides[rest_x.rank++] = x.strides[d];
  }
  rest_out = rest_x;
  int64_t stride = 1;
  for (int d = rest_out.rank - 1; d >= 0; --d) rest_out.strides[d] = stride, stride *= rest_out.shape[d];
  visit_float(x.dtype, [&]<typename T>() {
    ReduceArgs<T> a{static_cast<const T*>(x.data), static_cast<T*>(out.data),
                    argmax != nullptr ? static_cast<int64_t*>(argmax->data) : nullptr,
                    rest_out.numel(), x.shape[axis], x.strides[axis], make_indexer<2>({&rest_out, &rest_x})};
    if (a.outputs == 0) return;
    // Long reductions over few outputs get a group of threads each.
    if (a.n >= 4096 && a.outputs < 1024)
      launch_reduce<256>(ctx, is_max, a);
    else if (a.n >= 64 && (a.step == 1 || a.outputs < 8192))
      launch_reduce<32>(ctx, is_max, a);
    else
      launch_reduce<1>(ctx, is_max, a);
  });
}

void gather_rows(const Context& ctx, const Array& table, const Array& index, const Array& out) {
  const int64_t rows = index.shape[0], cols = table.shape[1];
  const Array g = grid(rows, cols);
  visit_any(table.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    GatherBody<T>{static_cast<T*>(out.data), static_cast<const T*>(table.data),
                                  static_cast<const int64_t*>(index.data), cols, table.shape[0], index.strides[0],
                                  table.strides[0], table.strides[1], out.strides[0], out.strides[1], ctx.error});
  });
}

namespace {
// One thread per column walks the rows in order: a repeated index adds in the
// same order every run, so the result is deterministic.
template <typename T>
__global__ void scatter_add_kernel(const T* src, int64_t s0, int64_t s1, const int64_t* index, int64_t is, T* table,
                                   int64_t t0, int64_t t1, int64_t rows, int64_t cols, int64_t table_rows,
                                   DeviceError* error) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (j >= cols) return;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t k = index[i * is];
    if (k < 0 || k >= table_rows) {
      if (j == 0) report(error, DeviceErrorCode::scatter_index, k, i, table_rows);
      continue;
    }
    table[k * t0 + j * t1] += src[i * s0 + j * s1];
  }
}
}  // namespace

void scatter_add_rows(const Context& ctx, const Array& src, const Array& index, const Array& table) {
  const int64_t rows = index.shape[0], cols = table.shape[1];
  if (rows * cols == 0) return;
  visit_float(table.dtype, [&]<typename T>() {
    const int threads = 64;
    scatter_add_kernel<T><<<blocks_for(cols, threads), threads, 0, ctx.stream>>>(
        static_cast<const T*>(src.data), src.strides[0], src.strides[1], static_cast<const int64_t*>(index.data),
        index.strides[0], static_cast<T*>(table.data), table.strides[0], table.strides[1], rows, cols,
        table.shape[0], ctx.error);
  });
}

void softmax(const Context& ctx, const Array& x, const Array& out, int64_t rows, int64_t cols, bool log) {
  if (rows * cols == 0) return;
  visit_float(x.dtype, [&]<typename T>() {
    const T* xs = static_cast<const T*>(x.data);
    T* ys = static_cast<T*>(out.data);
    if (cols <= 1024)
      softmax_kernel<32, T><<<blocks_for(rows, kThreads / 32), kThreads, 0, ctx.stream>>>(xs, ys, rows, cols, log);
    else
      softmax_kernel<256, T><<<blocks_for(rows, 1), 256, 0, ctx.stream>>>(xs, ys, rows, cols, log);
  });
}

void softmax_backward(const Context& ctx, const Array& y, const Array& dy, const Array& dx, int64_t rows,
                      int64_t cols, bool log) {
  if (rows * cols == 0) return;
  visit_float(y.dtype, [&]<typename T>() {
    const T* ys = static_cast<const T*>(y.data);
    const T* dys = static_cast<const T*>(dy.data);
    T* dxs = static_cast<T*>(dx.data);
    if (cols <= 1024)
      softmax_backward_kernel<32, T>
          <<<blocks_for(rows, kThreads / 32), kThreads, 0, ctx.stream>>>(ys, dys, dxs, rows, cols, log);
    else
      softmax_backward_kernel<256, T><<<blocks_for(rows, 1), 256, 0, ctx.stream>>>(ys, dys, dxs, rows, cols, log);
  });
}

void nll(const Context& ctx, const Array& logp, const Array& target, int64_t ignore_index, double smoothing,
         const Array& loss) {
  const int64_t rows = logp.shape[0], cols = logp.shape[1];
  if (rows == 0) return;
  visit_float(logp.dtype, [&]<typename T>() {
    nll_kernel<32, T><<<blocks_for(rows, kThreads / 32), kThreads, 0, ctx.stream>>>(
        static_cast<const T*>(logp.data), static_cast<const int64_t*>(target.data), target.strides[0],
        ignore_index, smoothing, static_cast<T*>(loss.data), loss.strides[0], rows, cols, ctx.error);
  });
}

void nll_backward(const Context& ctx, const Array& target, int64_t ignore_index, double smoothing,
                  const Array& dloss, const Array& dlogp) {
  const int64_t rows = dlogp.shape[0], cols = dlogp.shape[1];
  if (cols == 0) return;
  const int64_t width = smoothing != 0 ? cols : 1;
  const Array g = grid(rows, width);
  visit_float(dlogp.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    NllBackwardBody<T>{static_cast<T*>(dlogp.data), static_cast<const T*>(dloss.data),
                                       static_cast<const int64_t*>(target.data), width, cols, target.strides[0],
                                       dloss.strides[0], ignore_index, smoothing, ctx.error});
  });
}

namespace {

template <typename T> struct GruGatesBody {
  const T *gi, *gh, *h;
  T *out, *saved;
  int64_t hidden, gi_row, gh_row, h_row, out_row, saved_row;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / hidden, j = o[0] - b * hidden, H = hidden;
    const T* x = gi + b * gi_row;
    const T* y = gh + b * gh_row;
    const T r = GpuMath::sigmoid(T(x[j] + y[j]));
    const T z = GpuMath::sigmoid(T(x[H + j] + y[H + j]));
    const T n = GpuMath::tanh(T(x[2 * H + j] + r * y[2 * H + j]));
    out[b * out_row + j] = n + z * (h[b * h_row + j] - n);
    T* s = saved + b * saved_row;
    s[j] = r, s[H + j] = z, s[2 * H + j] = n;
  }
};

template <typename T> struct GruGatesBackwardBody {
  const T *saved, *gh, *h, *dout;
  T *dgi, *dgh, *dh;
  int64_t hidden, saved_row, gh_row, h_row, dout_row, dgi_row, dgh_row, dh_row;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / hidden, j = o[0] - b * hidden, H = hidden;
    const T* s = saved + b * saved_row;
    const T r = s[j], z = s[H + j], n = s[2 * H + j];
    const T g = dout[b * dout_row + j];
    const T a_n = g * (T(1) - z) * (T(1) - n * n);
    const T a_z = g * (h[b * h_row + j] - n) * z * (T(1) - z);
    const T a_r = a_n * gh[b * gh_row + 2 * H + j] * r * (T(1) - r);
    dh[b * dh_row + j] = g * z;
    T* di = dgi + b * dgi_row;
    T* dg = dgh + b * dgh_row;
    di[j] = a_r, di[H + j] = a_z, di[2 * H + j] = a_n;
    dg[j] = a_r, dg[H + j] = a_z, dg[2 * H + j] = a_n * r;
  }
};

}  // namespace

void gru_gates(const Context& ctx, const Array& gi, const Array& gh, const Array& h, const Array& out,
               const Array& saved) {
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  const Array g = grid(batch, hidden);
  visit_float(h.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    GruGatesBody<T>{static_cast<const T*>(gi.data), static_cast<const T*>(gh.data),
                                    static_cast<const T*>(h.data), static_cast<T*>(out.data),
                                    static_cast<T*>(saved.data), hidden, gi.strides[0], gh.strides[0],
                                    h.strides[0], out.strides[0], saved.strides[0]});
  });
}

void gru_gates_backward(const Context& ctx, const Array& saved, const Array& gh, const Array& h, const Array& dout,
                        const Array& dgi, const Array& dgh, const Array& dh) {
  const int64_t batch = h.shape[0], hidden = h.shape[1];
  const Array g = grid(batch, hidden);
  visit_float(h.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    GruGatesBackwardBody<T>{static_cast<const T*>(saved.data), static_cast<const T*>(gh.data),
                                            static_cast<const T*>(h.data), static_cast<const T*>(dout.data),
                                            static_cast<T*>(dgi.data), static_cast<T*>(dgh.data),
                                            static_cast<T*>(dh.data), hidden, saved.strides[0], gh.strides[0],
                                            h.strides[0], dout.strides[0], dgi.strides[0], dgh.strides[0],
                                            dh.strides[0]});
  });
}

namespace {

// keys (B, S, A), query (B, A), v (A) and a (B, S) operand, rows strided.
template <typename T> struct AdditiveOperands {
  const T *keys, *query, *v;
  int64_t source, attention, keys_b, keys_s, query_b;
  __device__ T t(int64_t b, int64_t s, int64_t a) const {
    return GpuMath::tanh(T(keys[b * keys_b + s * keys_s + a] + query[b * query_b + a]));
  }
};

template <typename T> struct AdditiveScoreBody {
  AdditiveOperands<T> in;
  T* score;
  int64_t score_b, score_s;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / in.source, s = o[0] - b * in.source;
    T sum = 0;
    for (int64_t a = 0; a < in.attention; ++a) sum += in.v[a] * in.t(b, s, a);
    score[b * score_b + s * score_s] = sum;
  }
};

template <typename T> struct AdditiveDkeysBody {  // one thread per (b, s, a)
  AdditiveOperands<T> in;
  const T* dscore;
  int64_t dscore_b, dscore_s;
  T* dkeys;
  int64_t dkeys_b, dkeys_s;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t row = o[0] / in.attention, a = o[0] - row * in.attention;
    const int64_t b = row / in.source, s = row - b * in.source;
    const T t = in.t(b, s, a);
    dkeys[b * dkeys_b + s * dkeys_s + a] += dscore[b * dscore_b + s * dscore_s] * in.v[a] * (T(1) - t * t);
  }
};

template <typename T> struct AdditiveDqueryBody {  // one thread per (b, a)
  AdditiveOperands<T> in;
  const T* dscore;
  int64_t dscore_b, dscore_s;
  T* dquery;
  int64_t dquery_b;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t b = o[0] / in.attention, a = o[0] - b * in.attention;
    T sum = 0;
    for (int64_t s = 0; s < in.source; ++s) {
      const T t = in.t(b, s, a);
      sum += dscore[b * dscore_b + s * dscore_s] * in.v[a] * (T(1) - t * t);
    }
    dquery[b * dquery_b + a] += sum;
  }
};

template <typename T> struct AdditiveDvBody {  // one thread per a
  AdditiveOperands<T> in;
  const T* dscore;
  int64_t dscore_b, dscore_s, batch;
  T* dv;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t a = o[0];
    T sum = 0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < in.source; ++s) sum += dscore[b * dscore_b + s * dscore_s] * in.t(b, s, a);
    dv[a] += sum;
  }
};

template <typename T> AdditiveOperands<T> additive_operands(const Array& keys, const Array& query, const Array& v) {
  return {static_cast<const T*>(keys.data), static_cast<const T*>(query.data), static_cast<const T*>(v.data),
          keys.shape[1], keys.shape[2], keys.strides[0], keys.strides[1], query.strides[0]};
}

}  // namespace

void additive_score(const Context& ctx, const Array& keys, const Array& query, const Array& v, const Array& score) {
  const Array g = grid(keys.shape[0], keys.shape[1]);
  visit_float(keys.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&g},
                    AdditiveScoreBody<T>{additive_operands<T>(keys, query, v), static_cast<T*>(score.data),
                                         score.strides[0], score.strides[1]});
  });
}

void additive_score_backward(const Context& ctx, const Array& keys, const Array& query, const Array& v,
                             const Array& dscore, const Array* dkeys, const Array* dquery, const Array* dv) {
  const int64_t batch = keys.shape[0], source = keys.shape[1], attention = keys.shape[2];
  visit_float(keys.dtype, [&]<typename T>() {
    const AdditiveOperands<T> in = additive_operands<T>(keys, query, v);
    const T* g = static_cast<const T*>(dscore.data);
    if (dkeys != nullptr) {
      const Array cells = grid(batch * source, attention);
      map_elements<1>(ctx, {&cells},
                      AdditiveDkeysBody<T>{in, g, dscore.strides[0], dscore.strides[1], static_cast<T*>(dkeys->data),
                                           dkeys->strides[0], dkeys->strides[1]});
    }
    if (dquery != nullptr) {
      const Array cells = grid(batch, attention);
      map_elements<1>(ctx, {&cells},
                      AdditiveDqueryBody<T>{in, g, dscore.strides[0], dscore.strides[1],
                                            static_cast<T*>(dquery->data), dquery->strides[0]});
    }
    if (dv != nullptr) {
      const Array cells = grid(1, attention);
      map_elements<1>(ctx, {&cells},
                      AdditiveDvBody<T>{in, g, dscore.strides[0], dscore.strides[1], batch, static_cast<T*>(dv->data)});
    }
  });
}

namespace {

template <typename T, bool amsgrad> struct AdamBody {
  T *p, *m, *v, *v_max;
  const T* g;
  adam::Coefficients<T> c;
  __device__ void operator()(const int64_t (&o)[1]) const {
    const int64_t i = o[0];
    adam::element<amsgrad, GpuMath>(p[i], g[i], m[i], v[i], amsgrad ? v_max[i] : v[i], c);
  }
};

}  // namespace

void adam_update(const Context& ctx, const Array& param, const Array& grad, const Array& exp_avg,
                 const Array& exp_avg_sq, const Array* max_exp_avg_sq, const AdamStep& step) {
  const Array flat = grid(1, param.numel());  // the elements as one contiguous run
  visit_float(param.dtype, [&]<typename T>() {
    const adam::Coefficients<T> c = adam::coefficients<T>(step);
    T* const p = static_cast<T*>(param.data);
    T* const m = static_cast<T*>(exp_avg.data);
    T* const v = static_cast<T*>(exp_avg_sq.data);
    const T* const g = static_cast<const T*>(grad.data);
    if (max_exp_avg_sq != nullptr)
      map_elements<1>(ctx, {&flat}, AdamBody<T, true>{p, m, v, static_cast<T*>(max_exp_avg_sq->data), g, c});
    else
      map_elements<1>(ctx, {&flat}, AdamBody<T, false>{p, m, v, nullptr, g, c});
  });
}

namespace {

template <typename T> struct DropoutMaskBody {
  T* out;
  uint64_t key;
  double keep;
  T scale;
  __device__ void operator()(const int64_t (&o)[1]) const {
    out[o[0]] = random_bits::dropout_scale(key, static_cast<uint64_t>(o[0]), keep, scale);
  }
};

}  // namespace

void dropout_mask(const Context& ctx, const Array& out, uint64_t key, double keep, double scale) {
  const Array flat = grid(1, out.numel());
  visit_float(out.dtype, [&]<typename T>() {
    map_elements<1>(ctx, {&flat}, DropoutMaskBody<T>{static_cast<T*>(out.data), key, keep, static_cast<T>(scale)});
  });
}

}  // namespace tg::cuda_kernels
