#include "backends/cpu/cpu_backend.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <type_traits>
#include <vector>

#include "backends/cpu/cpu_gemm.h"
#include "backends/cpu/cpu_loops.h"
#include "backends/cpu/cpu_math.h"
#include "backends/cpu/packed_operand_cache.h"
#include "backends/cpu/product_census.h"
#include "core/dispatch/backend_registry.h"
#include "core/types/run_extremes.h"
#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/primitives.h"
#include "core/dispatch/matmul_precision.h"

namespace tg {

namespace {

using namespace primitives;

using cpu::map_elements;
using cpu::parallel_ranges;
using cpu::CpuMath;
using cpu::exp_nonpositive_any;

// ---------------------------------------------------------------------------
// dtype dispatch and argument checks

// Index i of a 1-D int64 view, through its stride.
int64_t index_at(const View& index, int64_t i) { return index.as<const int64_t>()[i * index.strides[0]]; }


// ---------------------------------------------------------------------------
// elementwise

// One loop per kernel; the function itself comes from core/dispatch/elementwise.h,
// evaluated with CpuMath (backends/cpu/cpu_math.h). visit_unary / visit_binary pick
// the functor once per call, so each loop is specialised and vectorises.

// out = f(x, s)
template <typename T>
void unary_typed(UnaryOp op, const View& x, const View& out, T s) {
  elementwise::visit_unary(op, [&]<class F>() {
    if constexpr (std::is_same_v<F, elementwise::Unary<UnaryOp::pow_scalar>>) {
      // The functor tests s == 2 per element (x² without pow); decided here
      // once, the test folds away and the square vectorises.
      if (s == T(2))
        return map_elements<T, T>(out, [](T& y, T v) { y = F::template f<CpuMath>(v, T(2)); }, x);
      return map_elements<T, T>(out, [s](T& y, T v) {
        if (s == T(2)) __builtin_unreachable();  // known false: leaves the bare pow call
        y = F::template f<CpuMath>(v, s);
      }, x);
    }
    map_elements<T, T>(out, [s](T& y, T v) { y = F::template f<CpuMath>(v, s); }, x);
  });
}

// dx += dy * f'(x), with f' given x, y = f(x) and s.
template <typename T>
void unary_backward_typed(UnaryOp op, const View& x, const View& y, const View& dy, const View& dx,
                          T s) {
  elementwise::visit_unary(op, [&]<class F>() {
    map_elements<T, T, T, T>(
        dx, [s](T& g, T xv, T yv, T dyv) { g += dyv * F::template df<CpuMath>(xv, yv, s); }, x, y, dy);
  });
}

// out = f(a, b): T for arithmetic, bool for comparisons.
template <typename T>
void binary_typed(BinaryOp op, const View& a, const View& b, const View& out) {
  elementwise::visit_binary(op, [&]<class F>() {
    using Out = decltype(F::f(T(), T()));
    map_elements<Out, T, T>(out, [](Out& o, T x, T y) { o = F::f(x, y); }, a, b);
  });
}

// ---------------------------------------------------------------------------
// reduce: each output element o reduces x[o + k*step] for k < n. Two loop
// orders, picked by which is closer to unit stride in memory:
//   along:  one output at a time, k innermost (reducing a row's last axis);
//   across: a block of neighbouring outputs at a time, k outermost, so the
//           innermost loop runs over outputs (reducing axis 0 of a matrix).

constexpr int64_t kAcrossBlock = 256;  // outputs per block: accumulators stay on the stack

// Sums accumulate in double, also for float32: long float sums lose digits.
template <typename T>
void sum_along(const T* x, int64_t x_stride, T* out, int64_t out_stride, int64_t m, int64_t n,
               int64_t step) {
  for (int64_t j = 0; j < m; ++j) {
    const T* row = x + j * x_stride;
    double acc = 0;
    if (step == 1) {  // the usual case, spelled out so that it vectorises
#pragma omp simd reduction(+ : acc)
      for (int64_t k = 0; k < n; ++k) acc += row[k];
    } else {
      for (int64_t k = 0; k < n; ++k) acc += row[k * step];
    }
    out[j * out_stride] = T(acc);
  }
}

template <typename T>
void sum_across(const T* x, int64_t x_stride, T* out, int64_t out_stride, int64_t m, int64_t n,
                int64_t step) {
  for (int64_t j0 = 0; j0 < m; j0 += kAcrossBlock) {
    const int64_t width = std::min(kAcrossBlock, m - j0);
    double acc[kAcrossBlock] = {};
    for (int64_t k = 0; k < n; ++k) {
      const T* slice = x + j0 * x_stride + k * step;
      for (int64_t j = 0; j < width; ++j) acc[j] += slice[j * x_stride];
    }
    for (int64_t j = 0; j < width; ++j) out[(j0 + j) * out_stride] = T(acc[j]);
  }
}

// v replaces the best so far if larger, or if NaN (NaN propagates, first one wins).
template <typename T> bool beats(T v, T best) { return v > best || (v != v && best == best); }

// The first k with row[k] == value, or n: one branch per 16 compares.
template <typename T>
int64_t first_equal(const T* row, int64_t n, T value) {
  constexpr int64_t kChunk = 16;
  int64_t k = 0;
  for (; k + kChunk <= n; k += kChunk) {
    int hits = 0;
    for (int64_t j = 0; j < kChunk; ++j) hits |= row[k + j] == value ? 1 : 0;
    if (hits != 0) break;
  }
  while (k < n && row[k] != value) ++k;
  return k;
}

template <typename T>
void max_along(const T* x, int64_t x_stride, T* out, int64_t* arg, int64_t out_stride, int64_t m,
               int64_t n, int64_t step) {
  for (int64_t j = 0; j < m; ++j) {
    const T* row = x + j * x_stride;
    if (step == 1) {  // a run of memory (a search step's scores over the vocabulary): a vector at a time
      // The largest value, then its first position; the same answer as the loop below where there is no NaN.
      // The reduction's starting value may be the type's lowest finite value rather than -inf (clang): a row
      // of -inf then finds no match and falls through to the loop below.
      const RunExtreme<T> largest = run_max(row, n);
      const bool any_nan = largest.nans > 0;
      const int64_t at = any_nan ? n : first_equal(row, n, largest.value);
      if (!any_nan && at < n) {
        out[j * out_stride] = row[at];  // the first of ±0, as below
        if (arg != nullptr) arg[j * out_stride] = at;
        continue;
      }
    }
    T best = row[0];
    int64_t best_k = 0;
    for (int64_t k = 1; k < n; ++k)
      if (beats(row[k * step], best)) best = row[k * step], best_k = k;
    out[j * out_stride] = best;
    if (arg != nullptr) arg[j * out_stride] = best_k;
  }
}

template <typename T>
void max_across(const T* x, int64_t x_stride, T* out, int64_t* arg, int64_t out_stride, int64_t m,
                int64_t n, int64_t step) {
  for (int64_t j0 = 0; j0 < m; j0 += kAcrossBlock) {
    const int64_t width = std::min(kAcrossBlock, m - j0);
    T best[kAcrossBlock];
    int64_t best_k[kAcrossBlock] = {};
    for (int64_t j = 0; j < width; ++j) best[j] = x[(j0 + j) * x_stride];
    for (int64_t k = 1; k < n; ++k) {
      const T* slice = x + j0 * x_stride + k * step;
      for (int64_t j = 0; j < width; ++j)
        if (beats(slice[j * x_stride], best[j])) best[j] = slice[j * x_stride], best_k[j] = k;
    }
    for (int64_t j = 0; j < width; ++j) {
      out[(j0 + j) * out_stride] = best[j];
      if (arg != nullptr) arg[(j0 + j) * out_stride] = best_k[j];
    }
  }
}

template <typename T>
void reduce_typed(ReduceOp op, const View& x, int axis, const View& out, int64_t* arg) {
  const int64_t n = x.shape[axis], step = x.strides[axis];
  // Walk the output positions: x's shape and strides without the axis, out contiguous.
  Shape rest = x.shape;
  Strides x_rest = x.strides;
  rest.erase(axis);
  x_rest.erase(axis);
  const Strides out_strides = contiguous_strides(rest);
  const auto plan = cpu::make_plan<2>(rest, {&out_strides, &x_rest});
  const T* x_base = x.as<const T>();
  T* out_base = out.as<T>();

  auto row = [&](const std::array<int64_t, 2>& offsets, int64_t m) {
    const T* xs = x_base + offsets[1];
    T* os = out_base + offsets[0];
    int64_t* as = arg != nullptr ? arg + offsets[0] : nullptr;
    const int64_t x_stride = plan.inner_stride(1), out_stride = plan.inner_stride(0);
    const bool along = m == 1 || std::abs(step) <= std::abs(x_stride);
    if (op == ReduceOp::sum) {
      if (along) sum_along(xs, x_stride, os, out_stride, m, n, step);
      else sum_across(xs, x_stride, os, out_stride, m, n, step);
    } else {
      if (along) max_along(xs, x_stride, os, as, out_stride, m, n, step);
      else max_across(xs, x_stride, os, as, out_stride, m, n, step);
    }
  };
  parallel_ranges(rest.numel(), x.numel(), [&](int64_t begin, int64_t end) {
    cpu::walk_rows(plan, begin, end, row);
  });
}

// ---------------------------------------------------------------------------
// matmul

using BlasInt = blasint;

BlasInt blas_int(int64_t v, std::string_view what) {
  if (v > INT_MAX) fail("matmul: {} = {} exceeds what OpenBLAS can index", what, v);
  return static_cast<BlasInt>(v);
}

// A (rows, cols) slice with strides (rs, cs) as OpenBLAS reads it: in place,
// as is or transposed, when one stride is 1 and the other clears the row
// length; otherwise packed row-major into `packed`.
template <typename T>
struct BlasMatrix {
  const T* data = nullptr;
  CBLAS_TRANSPOSE trans = CblasNoTrans;
  int64_t ld = 0;
  std::vector<T> packed;

  void set(const T* p, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
    // A stride along a dimension of size 1 is never followed, so it may be anything.
    if ((cols == 1 || cs == 1) && (rows == 1 || rs >= cols)) {
      data = p, trans = CblasNoTrans, ld = rows == 1 ? cols : rs;
    } else if ((rows == 1 || rs == 1) && (cols == 1 || cs >= rows)) {
      data = p, trans = CblasTrans, ld = cols == 1 ? rows : cs;
    } else {
      packed.resize(rows * cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) packed[r * cols + c] = p[r * rs + c * cs];
      data = packed.data(), trans = CblasNoTrans, ld = cols;
    }
  }
};

// c (M, N) = op(a) (M, K) @ op(b) (K, N) + beta * c, row-major, c's rows ldc apart.
void gemm(const BlasMatrix<float>& a, const BlasMatrix<float>& b, float* c, int64_t m, int64_t n,
          int64_t k, float beta, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, a.trans, b.trans, BlasInt(m), BlasInt(n), BlasInt(k), 1.0f, a.data,
              BlasInt(a.ld), b.data, BlasInt(b.ld), beta, c, BlasInt(ldc));
}
void gemm(const BlasMatrix<double>& a, const BlasMatrix<double>& b, double* c, int64_t m, int64_t n,
          int64_t k, double beta, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, a.trans, b.trans, BlasInt(m), BlasInt(n), BlasInt(k), 1.0, a.data,
              BlasInt(a.ld), b.data, BlasInt(b.ld), beta, c, BlasInt(ldc));
}

// c[i] = a[i] @ b[i] (+ c[i] when beta = 1) for every i of the batch on one of
// the own kernels (own_sgemm, own_bf16gemm): `product` is the kernel.
template <typename Product>
void own_products(const View& a, const View& b, const View& c, double beta, Product product) {
  const int64_t batch = c.shape[0], m = c.shape[1], n = c.shape[2], k = a.shape[2];
  auto one = [&](int64_t i) {
    product(m, n, k, {a.as<const float>() + i * a.strides[0], a.strides[1], a.strides[2]},
            {b.as<const float>() + i * b.strides[0], b.strides[1], b.strides[2], b.storage_id, b.storage_version},
            c.as<float>() + i * m * n, n,
            beta == 1);
  };
  // The work: multiply-adds, or for thin products (one row or one term each: an attention's context) the
  // elements read and written, which bound them.
  const int64_t work = std::max(batch * m * n * k / cpu::kFlopsPerElement, batch * (m * k + k * n + m * n));
  if (batch >= pool_threads())  // one product per thread at a time (each then runs serially)
    cpu::parallel_ranges(batch, work, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) one(i);
    });
  else
    for (int64_t i = 0; i < batch; ++i) one(i);  // each split over the threads
}

// OpenBLAS itself runs single-threaded (see CpuBackend's constructor): the
// cores are shared out here through the thread pool like in every other
// kernel, so one pool serves all work instead of two spinning against each
// other. Work is split over the batch when it is large enough, else over the
// longer side of c; each part is one single-threaded gemm.
// Returns the kernel that ran ("own" or "openblas"), for the product census.
template <typename T>
const char* matmul_typed(const View& a, const View& b, const View& c, double beta) {
  const int64_t batch = c.shape[0], m = c.shape[1], n = c.shape[2], k = a.shape[2];
  if (batch == 0 || m == 0 || n == 0) return "none";
  if (k == 0) {  // an empty sum: c = beta * c
    if (beta == 0) std::fill_n(c.as<T>(), c.numel(), T(0));
    return "none";
  }
  for (int64_t extent : {m, n, k, a.strides[1], a.strides[2], b.strides[1], b.strides[2]})
    blas_int(extent, "a matrix extent or stride");
  const int threads = pool_threads();
  const int64_t flops = batch * m * n * k;
  const int64_t work = flops / cpu::kFlopsPerElement;
  if constexpr (std::is_same_v<T, float>) {
    const bool a_transposed = k > 1 && a.strides[2] != 1;
    if (cpu::sgemm_kernel(a_transposed) == cpu::SgemmKernel::own && (beta == 0 || beta == 1)) {
      own_products(a, b, c, beta, cpu::own_sgemm);
      return "own";
    }
  }
  // c[i][r0:r1, c0:c1] (+)= a[i][r0:r1, :] @ b[i][:, c0:c1]
  auto block = [&](int64_t i, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    BlasMatrix<T> am, bm;
    am.set(a.as<const T>() + i * a.strides[0] + r0 * a.strides[1], r1 - r0, k, a.strides[1], a.strides[2]);
    bm.set(b.as<const T>() + i * b.strides[0] + c0 * b.strides[2], k, c1 - c0, b.strides[1], b.strides[2]);
    gemm(am, bm, c.as<T>() + i * m * n + r0 * n + c0, r1 - r0, c1 - c0, k, T(beta), n);
  };
  if (batch >= threads) {
    cpu::parallel_ranges(batch, work, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) block(i, 0, m, 0, n);
    });
  } else {
    // One part per thread, cut along the longer side of c. Each part's gemm
    // packs (copies into OpenBLAS's blocked layout) its share of the operand
    // that is cut and all of the other: cutting rows repacks all of b per
    // part, cutting columns all of a, so more parts, or the wrong side, copy
    // more. (With 8 row chunks, decoding's (64, 1792) x (1792, 5921) packed
    // the whole output weight 8 times a step: 57% of decoding time.)
    const bool cut_rows = m > n;
    const int64_t extent = cut_rows ? m : n;
    const int64_t parts = work / batch >= cpu::kParallelThreshold ? std::min<int64_t>(threads, extent) : 1;
    for (int64_t i = 0; i < batch; ++i) {
      auto part = [&](int64_t begin, int64_t end) {
        if (cut_rows)
          block(i, begin, end, 0, n);
        else
          block(i, 0, m, begin, end);
      };
      if (parts > 1)
        parallel_for(extent, parts, part);
      else
        part(0, extent);
    }
  }
  return "openblas";
}

// ---------------------------------------------------------------------------
// row kernels on contiguous (R, C) data

// The reductions carry `omp simd` so that they (and the exp inside) run a
// vector at a time: without it the compiler keeps the order of a float sum.
template <typename T>
void softmax_row(const T* x, T* y, int64_t cols, bool log) {
  T max = x[0];
#pragma omp simd reduction(max : max)
  for (int64_t c = 1; c < cols; ++c) max = x[c] > max ? x[c] : max;
  double sum = 0;
  if (log) {
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) sum += exp_nonpositive_any(T(x[c] - max));
    const T log_sum = T(std::log(sum));
    for (int64_t c = 0; c < cols; ++c) y[c] = x[c] - max - log_sum;
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) {
      y[c] = exp_nonpositive_any(T(x[c] - max));
      sum += y[c];
    }
    const T scale = T(1.0 / sum);
    for (int64_t c = 0; c < cols; ++c) y[c] *= scale;
  }
}

template <typename T>
void softmax_backward_row(const T* y, const T* dy, T* dx, int64_t cols, bool log) {
  double sum = 0;  // Σ dy (log) or Σ dy*y (softmax)
  if (log) {
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) sum += dy[c];
    const T s = T(sum);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) dx[c] += dy[c] - exp_nonpositive_any(y[c]) * s;
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) sum += double(dy[c]) * y[c];
    const T s = T(sum);
    for (int64_t c = 0; c < cols; ++c) dx[c] += y[c] * (dy[c] - s);
  }
}



// ---------------------------------------------------------------------------
// the primitives' bodies (core/dispatch/primitives.h), registered as the cpu backend's below; arguments are checked
// before a body runs

void fill_cpu(Backend&, const FillArgs& args) {
  const View& out = args.out;
  const double value = args.value;
  visit_any(out.dtype, [&]<typename T>() {
    const T v = convert_element<T>(value);
    map_elements<T>(out, [v](T& o) { o = v; });
  });
}

void copy_cpu(Backend&, const CopyArgs& args) {
  const View &src = args.src, &out = args.out;
  visit_any(src.dtype, [&]<typename S>() {
    visit_any(out.dtype, [&]<typename D>() {
      map_elements<D, S>(out, [](D& o, S s) { o = convert_element<D>(s); }, src);
    });
  });
}

void unary_cpu(Backend&, const UnaryArgs& args) {
  const View &x = args.x, &out = args.out;
  const UnaryOp op = args.op;
  const double scalar = args.scalar;
  visit_float(x.dtype, "unary", [&]<typename T>() { unary_typed<T>(op, x, out, T(scalar)); });
}

void unary_backward_cpu(Backend&, const UnaryBackwardArgs& args) {
  const View &x = args.x, &y = args.y, &dy = args.dy, &dx = args.dx;
  const UnaryOp op = args.op;
  const double scalar = args.scalar;
  visit_float(x.dtype, "unary_backward",
              [&]<typename T>() { unary_backward_typed<T>(op, x, y, dy, dx, T(scalar)); });
}

void binary_cpu(Backend&, const BinaryArgs& args) {
  const View &a = args.a, &b = args.b, &out = args.out;
  const BinaryOp op = args.op;
  visit_float(a.dtype, "binary", [&]<typename T>() { binary_typed<T>(op, a, b, out); });
}

void where_cpu(Backend&, const WhereArgs& args) {
  const View &cond = args.cond, &a = args.a, &b = args.b, &out = args.out;
  visit_any(a.dtype, [&]<typename T>() {
    map_elements<T, bool, T, T>(out, [](T& o, bool c, T x, T y) { o = c ? x : y; }, cond, a, b);
  });
}

void reduce_cpu(Backend&, const ReduceArgs& args) {
  const View &x = args.x, &out = args.out;
  const View* argmax = args.argmax;
  const ReduceOp op = args.op;
  const int axis = reduce_axis(args);
  int64_t* arg = argmax != nullptr && op == ReduceOp::max ? argmax->as<int64_t>() : nullptr;
  visit_float(x.dtype, "reduce", [&]<typename T>() { reduce_typed<T>(op, x, axis, out, arg); });
}


// x (float32, rounded to the precision, or 16-bit, converted exactly) as
// float32, row-major at `out` (x.numel() floats).
View float32_copy_into(const View& x, MatmulPrecision precision, float* out) {
  const View copy{out, DType::f32, x.shape, contiguous_strides(x.shape)};
  visit_any(x.dtype, [&]<typename T>() {
    map_elements<float, T>(
        copy, [precision](float& o, T v) { o = round_to_precision(convert_element<float>(v), precision); }, x);
  });
  return copy;
}
View float32_copy(const View& x, MatmulPrecision precision, std::vector<float>& buffer) {
  buffer.resize(x.numel());
  return float32_copy_into(x, precision, buffer.data());
}


// A parameter's B (storage_id set) rounded to the precision, as float32 (batch, K, N) row-major, kept between
// products until the parameter is written (packed_operand_cache.h): a recurrent or decoder step rounds its
// weights once instead of every step, where copying a (512, 1536) weight cost as much as its 64-row product.
View kept_rounded_copy(const View& b, MatmulPrecision precision,
                       std::shared_ptr<const cpu::PackedOperandCache::Words>& kept) {
  const int64_t k = b.shape[1], n = b.shape[2];
  const cpu::PackedKey key{b.storage_id, b.storage_version, b.data, b.strides[1], b.strides[2], k, n,
                           cpu::kRoundedCopy + static_cast<int>(precision), b.shape[0], b.strides[0]};
  kept = cpu::packed_operand_cache().get(key, static_cast<size_t>(b.numel()), [&](uint32_t* words) {
    float32_copy_into(b, precision, reinterpret_cast<float*>(words));
  });
  return View{const_cast<uint32_t*>(kept->data()), DType::f32, b.shape, contiguous_strides(b.shape)};
}

// A float32 product at bf16 precision runs on the AVX512-BF16 kernel where the
// build has it (cpu_gemm.h: inputs rounded while packed, twice float32's
// multiply-adds per instruction). Otherwise a product at a reduced precision
// multiplies rounded copies of its inputs: the same sums of the same exactly
// representable products as tensor cores form, at the cost of one pass over
// each input. 16-bit inputs
// are converted to float32 the same way (exactly), the product taken in
// float32 and, for a 16-bit c, rounded once at the end.
// Runs the product; returns the kernel that ran, for the product census.
const char* run_matmul(Backend& backend, const MatmulArgs& args) {
  const View &a = args.a, &b = args.b, &c = args.c;
  const double beta = args.beta;
  const MatmulPrecision precision = a.dtype == DType::f32 ? matmul_precision() : MatmulPrecision::fp32;
  if (precision == MatmulPrecision::bf16 && c.dtype == DType::f32 && cpu::bf16_products_built() &&
      (beta == 0 || beta == 1)) {
    // A batch of one-row or one-term products (an attention's context and its gradients at a decoder step)
    // is bound by memory, so no faster in bfloat16: float32, read in place (cpu_gemm.cpp's thin paths). A
    // single one keeps bfloat16, so that a decoder step's row alone has the bits it has in a batch.
    if (c.shape[0] > 1 && (c.shape[1] == 1 || a.shape[2] == 1)) {
      own_products(a, b, c, beta, cpu::own_sgemm);
      return "own";
    }
    own_products(a, b, c, beta, cpu::own_bf16gemm);  // rounds while it packs
    switch (cpu::bf16_kernel()) {
      case cpu::Bf16Kernel::dpbf16: return "own-bf16 (vdpbf16ps)";
      case cpu::Bf16Kernel::amx: return "own-bf16 (amx)";
      case cpu::Bf16Kernel::fma: break;
    }
    return "own-bf16 (fma)";
  }
  if (is_half(a.dtype) || precision != MatmulPrecision::fp32) {
    std::vector<float> a_buffer, b_buffer, c_buffer;
    std::shared_ptr<const cpu::PackedOperandCache::Words> kept_b;
    const bool keep_b = b.dtype == DType::f32 && b.storage_id != 0 && cpu::keep_packed_parameters();
    const View af = float32_copy(a, precision, a_buffer);
    const View bf = keep_b ? kept_rounded_copy(b, precision, kept_b) : float32_copy(b, precision, b_buffer);
    if (c.dtype == DType::f32) return matmul_typed<float>(af, bf, c, beta);
    // A 16-bit c: the float32 product in a buffer (holding c when beta = 1), rounded once into c.
    c_buffer.resize(c.numel());
    const View cf{c_buffer.data(), DType::f32, c.shape, c.strides};
    if (beta != 0) copy_cpu(backend, {c, cf});
    const char* kernel = matmul_typed<float>(af, bf, cf, beta);
    copy_cpu(backend, {cf, c});
    return kernel;
  }
  const char* kernel = "openblas";
  visit_float(a.dtype, "matmul", [&]<typename T>() { kernel = matmul_typed<T>(a, b, c, beta); });
  return kernel;
}

void matmul_cpu(Backend& backend, const MatmulArgs& args) {
  if (!cpu::product_census_on()) {
    run_matmul(backend, args);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const char* kernel = run_matmul(backend, args);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  cpu::record_product(kernel, args.a, args.b, args.c, took.count());
}

void gather_rows_cpu(Backend&, const GatherRowsArgs& args) {
  const View &table = args.table, &index = args.index, &out = args.out;
  const int64_t rows = index.shape[0], cols = table.shape[1];
  visit_any(table.dtype, [&]<typename T>() {
    const T* t = table.as<const T>();
    T* o = out.as<T>();
    const int64_t ts = table.strides[1], os = out.strides[1];
    parallel_ranges(rows, rows * cols, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* src = t + index_at(index, i) * table.strides[0];
        T* dst = o + i * out.strides[0];
        if (ts == 1 && os == 1) std::copy_n(src, cols, dst);
        else for (int64_t j = 0; j < cols; ++j) dst[j * os] = src[j * ts];
      }
    });
  });
}

void scatter_add_rows_cpu(Backend&, const ScatterAddRowsArgs& args) {
  const View &src = args.src, &index = args.index, &table = args.table;
  const int64_t rows = index.shape[0], cols = table.shape[1];
  visit_float(table.dtype, "scatter_add_rows", [&]<typename T>() {
    const T* s = src.as<const T>();
    T* t = table.as<T>();
    const int64_t ts = table.strides[1], ss = src.strides[1];
    // Threads split the columns, never the rows: a repeated index then never
    // has two threads adding into the same element.
    parallel_ranges(cols, rows * cols, [&](int64_t begin, int64_t end) {
      for (int64_t i = 0; i < rows; ++i) {
        T* dst = t + index_at(index, i) * table.strides[0];
        const T* from = s + i * src.strides[0];
        for (int64_t j = begin; j < end; ++j) dst[j * ts] += from[j * ss];
      }
    });
  });
}

void softmax_cpu(Backend&, const SoftmaxArgs& args) {
  const View &x = args.x, &out = args.out;
  const bool log = args.log;
  const auto [rows, cols] = as_rows(x);
  // Init-captures: clang 14 (the fuzz build) cannot capture structured bindings.
  visit_float(x.dtype, "softmax", [&, rows = rows, cols = cols]<typename T>() {
    const T* xs = x.as<const T>();
    T* ys = out.as<T>();
    parallel_ranges(rows, rows * cols, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) softmax_row(xs + r * cols, ys + r * cols, cols, log);
    });
  });
}

void softmax_backward_cpu(Backend&, const SoftmaxBackwardArgs& args) {
  const View &y = args.y, &dy = args.dy, &dx = args.dx;
  const bool log = args.log;
  const auto [rows, cols] = as_rows(y);
  visit_float(y.dtype, "softmax_backward", [&, rows = rows, cols = cols]<typename T>() {
    const T* ys = y.as<const T>();
    const T* dys = dy.as<const T>();
    T* dxs = dx.as<T>();
    parallel_ranges(rows, rows * cols, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        softmax_backward_row(ys + r * cols, dys + r * cols, dxs + r * cols, cols, log);
    });
  });
}

const RegisterKernel fill_on_cpu(fill_table(), "cpu", &fill_cpu);
const RegisterKernel copy_on_cpu(copy_table(), "cpu", &copy_cpu);
const RegisterKernel unary_on_cpu(unary_table(), "cpu", &unary_cpu);
const RegisterKernel unary_backward_on_cpu(unary_backward_table(), "cpu", &unary_backward_cpu);
const RegisterKernel binary_on_cpu(binary_table(), "cpu", &binary_cpu);
const RegisterKernel where_on_cpu(where_table(), "cpu", &where_cpu);
const RegisterKernel reduce_on_cpu(reduce_table(), "cpu", &reduce_cpu);
const RegisterKernel matmul_on_cpu(matmul_table(), "cpu", &matmul_cpu);
const RegisterKernel gather_rows_on_cpu(gather_rows_table(), "cpu", &gather_rows_cpu);
const RegisterKernel scatter_add_rows_on_cpu(scatter_add_rows_table(), "cpu", &scatter_add_rows_cpu);
const RegisterKernel softmax_on_cpu(softmax_table(), "cpu", &softmax_cpu);
const RegisterKernel softmax_backward_on_cpu(softmax_backward_table(), "cpu", &softmax_backward_cpu);

}  // namespace

CpuBackend::CpuBackend() { openblas_set_num_threads(1); }

// OpenBLAS stays single-threaded (the pool splits its products) even if a
// caller, such as a benchmark timing cblas_sgemm directly, changed it.
void CpuBackend::set_num_threads(int n) {
  openblas_set_num_threads(1);
  set_pool_threads(n);
}
int CpuBackend::num_threads() const { return pool_threads(); }

MatmulPrecision CpuBackend::training_precision(MatmulPrecision asked) const {
  if (asked != MatmulPrecision::bf16 || std::getenv("TG_BF16_KERNEL") != nullptr) return asked;
  return cpu::bf16_products_built() && cpu::bf16_kernel() != cpu::Bf16Kernel::fma ? asked : MatmulPrecision::fp32;
}

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

namespace {
// Ranked above reference: the default host backend (core/dispatch/backend_registry.h).
const RegisterHostBackend registered("cpu", 100, &cpu_backend);
}  // namespace

}  // namespace tg
