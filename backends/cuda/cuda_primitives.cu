// The CUDA kernels behind the CUDA backend. Each launcher (backends/cuda/cuda_primitives.h)
// queues work on the stream it is given and returns at once.
//
// Elementwise kernels share one strided engine: the operands' dimensions are
// first merged where every operand is contiguous across them (so most calls
// become 1-D), then each thread turns a linear index into one offset per
// operand. The functions themselves come from core/dispatch/elementwise.h, shared with
// the cpu backend.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cfloat>
#include <cmath>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_primitives.h"

namespace tg::cuda_kernels {

namespace {

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










}  // namespace tg::cuda_kernels
