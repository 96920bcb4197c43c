// CUDA kernels against the cpu backend, View by View: every Backend kernel runs
// on the GPU and on the cpu over the same random data in the same layout:
// float32 and float64, odd sizes (1, 7, 33, 257, 1000+), ranks 0..4, broadcast
// (stride 0), transposed, permuted and sliced (strided, offset) operands and
// strided outputs. Also: scatter-add is deterministic, ops mixing devices fail
// clearly, the caching allocator reuses memory, copies host <-> device.
//
// An operand is made once on the host; its whole storage is copied to the GPU
// with .to(), and the same make_view is taken over both. Outputs are compared
// over their whole storage, so a kernel writing outside its view is caught.
//
// Tolerances, |gpu - cpu| <= atol + rtol |cpu|, atol scaled by the length of
// the sum where a kernel sums (sums run in another order on the GPU, and CUDA's
// exp/log/tanh/pow differ from the host's by an ulp or two):
//   float64  rtol 1e-12, atol 1e-13 · scale
//   float32  rtol 1e-5,  atol 1e-6 · scale
// fill, copy, where, gather, comparisons and argmax must match exactly.
//
// Without a usable GPU the program prints "SKIP: <reason>" and exits with 77.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "cuda_test_main.h"
#include "tapegrad_kernels.h"

namespace {

using namespace tg;

const Device kGpu = Device::cuda(0);

Backend& cpu() { return cpu_backend(); }
Backend& gpu() { return backend_for(kGpu); }

// ---------------------------------------------------------------------------
// operands: one layout over host memory and over its copy on the GPU

enum class Layout {
  contiguous,  // row-major
  transposed,  // dimensions stored in reverse order
  permuted,    // dimensions stored rotated: the last one outermost
  sliced,      // every other element of a larger buffer, from index (1, 1, ...): strided, offset
  broadcast,   // even-numbered dimensions have stride 0
};
constexpr Layout kAllLayouts[] = {Layout::contiguous, Layout::transposed, Layout::permuted, Layout::sliced,
                                  Layout::broadcast};
constexpr Layout kWritableLayouts[] = {Layout::contiguous, Layout::transposed, Layout::permuted,
                                       Layout::sliced};

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::contiguous: return "contiguous";
    case Layout::transposed: return "transposed";
    case Layout::permuted: return "permuted";
    case Layout::sliced: return "sliced";
    case Layout::broadcast: return "broadcast";
  }
  return "?";
}

// Where the elements of `shape` sit in `layout`: strides, offset and the
// storage they need (gaps included), all in elements.
struct Placement {
  Strides strides;
  int64_t offset = 0, storage = 0;
};

Placement place(const Shape& shape, Layout layout) {
  const int rank = shape.size();
  Placement p{contiguous_strides(shape), 0, shape.numel()};
  if (layout == Layout::transposed || layout == Layout::permuted) {
    std::vector<int> order(rank);  // stored dimensions, outermost first
    for (int i = 0; i < rank; ++i) order[i] = layout == Layout::transposed ? rank - 1 - i : (i + rank - 1) % rank;
    int64_t stride = 1;
    for (int i = rank - 1; i >= 0; --i) p.strides[order[i]] = stride, stride *= shape[order[i]];
  } else if (layout == Layout::sliced) {
    Shape big;
    for (int d = 0; d < rank; ++d) big.push_back(2 * shape[d] + 1);
    const Strides big_strides = contiguous_strides(big);
    for (int d = 0; d < rank; ++d) p.strides[d] = 2 * big_strides[d], p.offset += big_strides[d];
    p.storage = big.numel();
  } else if (layout == Layout::broadcast) {
    Shape stored = shape;
    for (int d = 0; d < rank; d += 2) stored[d] = 1;
    p.strides = contiguous_strides(stored);
    for (int d = 0; d < rank; d += 2) p.strides[d] = 0;
    p.storage = stored.numel();
  }
  return p;
}

// One operand twice: views of the same shape, strides and offset over a host
// storage and over its copy on the GPU. The bases are 1-D and hold the whole
// storage, gaps included.
struct Operand {
  Tensor host_base, gpu_base;
  Shape shape;
  Strides strides;
  int64_t offset = 0;

  View host() const { return make_view(host_base, shape, strides, offset).view(); }
  View device() const { return make_view(gpu_base, shape, strides, offset).view(); }
  // Copies the host storage to the GPU again (after changing it on the host).
  void upload() { gpu_base = host_base.to(kGpu); }
};

// An operand whose whole storage holds random values: uniform in [lo, hi] for
// floats (whole numbers when `whole`, so that comparisons and maxima meet
// ties), integers for int64, 0/1 for bool.
Operand random_operand(DType dtype, const Shape& shape, Layout layout, std::mt19937& rng, double lo = -1,
                       double hi = 1, bool whole = false) {
  const Placement p = place(shape, layout);
  std::uniform_real_distribution<double> uniform(lo, hi);
  std::vector<double> values(std::max<int64_t>(p.storage, 1));
  for (double& v : values) {
    const double u = whole ? std::round(uniform(rng)) : uniform(rng);
    v = dtype == DType::i64 ? std::round(u * 1000) : dtype == DType::boolean ? double(u > (lo + hi) / 2) : u;
  }
  Operand o{from_vector(values, Shape{int64_t(values.size())}, {dtype}), Tensor(), shape, p.strides, p.offset};
  o.upload();
  return o;
}

// A 1-D int64 index holding `ids`, contiguous or with stride 2 and offset 1.
Operand index_operand(const std::vector<int64_t>& ids, bool strided = false) {
  const int64_t n = int64_t(ids.size());
  std::vector<int64_t> stored(strided ? 2 * n + 1 : std::max<int64_t>(n, 1), -7);
  for (int64_t i = 0; i < n; ++i) stored[strided ? 2 * i + 1 : i] = ids[i];
  Operand o{from_vector(stored, Shape{int64_t(stored.size())}, {DType::i64}), Tensor(), Shape{n},
            Strides{strided ? 2 : 1}, strided ? 1 : 0};
  o.upload();
  return o;
}

// The cpu's result, uploaded: the same input for both sides of a backward.
Operand cpu_result_on_both(Operand o) {
  o.upload();
  return o;
}

std::vector<int64_t> random_indices(int64_t n, int64_t rows, std::mt19937& rng) {
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  std::vector<int64_t> out(n);
  for (int64_t& i : out) i = pick(rng);
  return out;
}

// ---------------------------------------------------------------------------
// comparison

struct Tolerance {
  double rtol = 0, atol = 0;
};
constexpr Tolerance kExact{};
Tolerance tolerance(DType dtype, double scale = 1) {
  return dtype == DType::f64 ? Tolerance{1e-12, 1e-13 * scale} : Tolerance{1e-5, 1e-6 * scale};
}

// got (read back from the GPU, which waits for its kernels) equals want
// elementwise, in row-major order; NaN matches NaN.
void check_close(const Tensor& got_tensor, const Tensor& want_tensor, Tolerance tol, const std::string& what) {
  const std::vector<double> got = got_tensor.to_vector<double>(), want = want_tensor.to_vector<double>();
  REQUIRE(got.size() == want.size());
  int64_t misses = 0;
  std::string first;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    const bool ok = (std::isnan(g) && std::isnan(w)) || g == w || std::abs(g - w) <= tol.atol + tol.rtol * std::abs(w);
    if (!ok && misses++ == 0) first = fmt::format("element {}: gpu {} cpu {}", i, g, w);
  }
  INFO(what, ": ", misses, " mismatches, first at ", first);
  CHECK(misses == 0);
}

// The GPU's storage equals the cpu's everywhere, inside the view and in its
// gaps: a kernel that writes outside its view is caught too.
void check_same(const Operand& out, Tolerance tol = kExact) {
  check_close(out.gpu_base, out.host_base, tol,
              fmt::format("storage of shape {} strides {} offset {}", out.shape.str(), out.strides.str(), out.offset));
}

// "a | b | c": what a failing check was looking at.
template <typename... Args>
std::string describe(const Args&... args) {
  std::string out;
  ((out += fmt::format("{} | ", args)), ...);
  return out;
}

// Ranks 0..4, odd sizes, one empty; the last ones span several thread blocks
// ((130, 300) and (4, 33, 7, 65) also take the cpu's threaded path).
const std::vector<Shape> kShapes = {Shape{},          Shape{1},         Shape{7},         Shape{33},
                                    Shape{257},       Shape{1031},      Shape{3, 5},      Shape{1, 33},
                                    Shape{65, 1, 3},  Shape{2, 3, 4, 5}, Shape{3, 40, 70}, Shape{130, 300},
                                    Shape{4, 33, 7, 65}, Shape{2, 0, 3}};
constexpr DType kFloatTypes[] = {DType::f32, DType::f64};
constexpr DType kAllTypes[] = {DType::f32, DType::f64, DType::i64, DType::boolean, DType::f16, DType::bf16};

// Large shapes in every combination of layouts would repeat the small cases
// slowly; they get a few representative ones.
bool skip_large(const Shape& shape, Layout a, Layout b) {
  const bool representative = (a == Layout::contiguous && b == Layout::contiguous) ||
                              (a == Layout::transposed && b == Layout::broadcast) ||
                              (a == Layout::sliced && b == Layout::sliced) ||
                              (a == Layout::permuted && b == Layout::contiguous);
  return shape.numel() > 1100 && !representative;
}

// The message of the tg::Error that `body` throws, "" when it throws none.
std::string error_message(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------
// fill, copy

TEST_CASE("fill: every dtype, shape and writable layout") {
  std::mt19937 rng(1);
  for (DType dtype : kAllTypes)
    for (const Shape& shape : kShapes)
      for (Layout layout : kWritableLayouts)
        for (double value : {-2.5, 0.0}) {
          INFO(describe(dtype_name(dtype), shape.str(), layout_name(layout), value));
          const Operand out = random_operand(dtype, shape, layout, rng);
          primitives::fill(cpu(), out.host(), value);
          primitives::fill(gpu(), out.device(), value);
          check_same(out);
        }
}

TEST_CASE("copy: conversions between all four dtypes") {
  std::mt19937 rng(2);
  for (DType from : kAllTypes)
    for (DType to : kAllTypes)
      for (const Shape& shape : {Shape{}, Shape{7}, Shape{3, 5}, Shape{257}, Shape{130, 300}}) {
        INFO(describe(dtype_name(from), dtype_name(to), shape.str()));
        const Operand src = random_operand(from, shape, Layout::transposed, rng, -3, 3);
        const Operand out = random_operand(to, shape, Layout::sliced, rng);
        primitives::copy(cpu(), src.host(), out.host());
        primitives::copy(gpu(), src.device(), out.device());
        check_same(out);
      }
}

TEST_CASE("copy: every pair of layouts") {
  std::mt19937 rng(3);
  for (DType to : kFloatTypes)
    for (const Shape& shape : kShapes)
      for (Layout in_layout : kAllLayouts)
        for (Layout out_layout : kWritableLayouts) {
          if (skip_large(shape, in_layout, out_layout)) continue;
          INFO(describe(dtype_name(to), shape.str(), layout_name(in_layout), layout_name(out_layout)));
          const Operand src = random_operand(DType::f32, shape, in_layout, rng);
          const Operand out = random_operand(to, shape, out_layout, rng);
          primitives::copy(cpu(), src.host(), out.host());
          primitives::copy(gpu(), src.device(), out.device());
          check_same(out);
        }
}

// ---------------------------------------------------------------------------
// elementwise

constexpr UnaryOp kUnaryOps[] = {UnaryOp::neg,  UnaryOp::exp,        UnaryOp::log,
                                 UnaryOp::sqrt, UnaryOp::tanh,       UnaryOp::sigmoid,
                                 UnaryOp::relu, UnaryOp::abs,        UnaryOp::erf, UnaryOp::pow_scalar,
                                 UnaryOp::mul_scalar, UnaryOp::add_scalar, UnaryOp::sin, UnaryOp::cos};

TEST_CASE("unary and unary_backward: every op, dtype, shape and layout") {
  std::mt19937 rng(4);
  for (UnaryOp op : kUnaryOps)
    for (double scalar : {2.0, -1.5})
      for (DType dtype : kFloatTypes)
        for (const Shape& shape : kShapes)
          for (Layout layout : kAllLayouts) {
            if (scalar != 2.0 && op != UnaryOp::pow_scalar && op != UnaryOp::mul_scalar) continue;
            if (skip_large(shape, layout, layout) && layout != Layout::broadcast) continue;
            INFO(describe(unary_op_name(op), scalar, dtype_name(dtype), shape.str(), layout_name(layout)));
            const bool positive = op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::pow_scalar;
            const Operand x = random_operand(dtype, shape, layout, rng, positive ? 0.1 : -2, 2);
            const Layout out_layout = layout == Layout::broadcast ? Layout::sliced : layout;
            const Operand y = random_operand(dtype, shape, out_layout, rng);
            primitives::unary(cpu(), op, x.host(), y.host(), scalar);
            primitives::unary(gpu(), op, x.device(), y.device(), scalar);
            check_same(y, tolerance(dtype));

            // dx += f'(x) dy from a non-zero dx, with the same y on both sides.
            const Operand y_both = cpu_result_on_both(y);
            const Operand dy = random_operand(dtype, shape, Layout::contiguous, rng);
            const Operand dx = random_operand(dtype, shape, Layout::permuted, rng);
            primitives::unary_backward(cpu(), op, x.host(), y_both.host(), dy.host(), dx.host(), scalar);
            primitives::unary_backward(gpu(), op, x.device(), y_both.device(), dy.device(), dx.device(), scalar);
            check_same(dx, tolerance(dtype));
          }
}

constexpr BinaryOp kBinaryOps[] = {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div,
                                   BinaryOp::maximum, BinaryOp::minimum, BinaryOp::eq,
                                   BinaryOp::ne, BinaryOp::lt, BinaryOp::le, BinaryOp::gt,
                                   BinaryOp::ge};

TEST_CASE("binary: every op, dtype, shape and pair of layouts") {
  std::mt19937 rng(5);
  for (BinaryOp op : kBinaryOps)
    for (DType dtype : kFloatTypes)
      for (const Shape& shape : kShapes)
        for (Layout la : kAllLayouts)
          for (Layout lb : {Layout::contiguous, Layout::broadcast, Layout::sliced, Layout::permuted}) {
            if (skip_large(shape, la, lb)) continue;
            INFO(describe(binary_op_name(op), dtype_name(dtype), shape.str(), layout_name(la), layout_name(lb)));
            // Whole numbers in [-3, 3] so that comparisons and max/min meet ties.
            const bool whole = op != BinaryOp::div;
            const Operand a = random_operand(dtype, shape, la, rng, -3, 3, whole);
            const Operand b = random_operand(dtype, shape, lb, rng, -3, 3, whole);
            const Operand out =
                random_operand(is_comparison(op) ? DType::boolean : dtype, shape, Layout::transposed, rng);
            primitives::binary(cpu(), op, a.host(), b.host(), out.host());
            primitives::binary(gpu(), op, a.device(), b.device(), out.device());
            check_same(out, is_comparison(op) ? kExact : tolerance(dtype));
          }
}

TEST_CASE("binary: out aliasing a updates it in place") {
  std::mt19937 rng(6);
  for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div, BinaryOp::maximum})
    for (DType dtype : kFloatTypes)
      for (const Shape& shape : {Shape{7}, Shape{257}, Shape{3, 40, 70}, Shape{130, 300}})
        for (Layout la : kWritableLayouts)
          for (Layout lb : {Layout::broadcast, Layout::contiguous}) {
            INFO(describe(binary_op_name(op), dtype_name(dtype), shape.str(), layout_name(la), layout_name(lb)));
            const Operand a = random_operand(dtype, shape, la, rng, 0.5, 2);
            const Operand b = random_operand(dtype, shape, lb, rng, 0.5, 2);
            primitives::binary(cpu(), op, a.host(), b.host(), a.host());
            primitives::binary(gpu(), op, a.device(), b.device(), a.device());
            check_same(a, tolerance(dtype));
          }
}

TEST_CASE("NaN: maximum and minimum propagate it, max-reduce picks the first, as on the cpu") {
  for (DType dtype : kFloatTypes) {
    INFO(describe(dtype_name(dtype)));
    std::mt19937 rng(7);
    Operand a = random_operand(dtype, Shape{5, 33}, Layout::contiguous, rng);
    Operand b = random_operand(dtype, Shape{5, 33}, Layout::contiguous, rng);
    // NaN in a, in b, in both, in neither; two in row 1 of a (argmax: the first).
    std::vector<double> av = a.host_base.to_vector<double>(), bv = b.host_base.to_vector<double>();
    for (int64_t i : {0, 40, 41, 70}) av[size_t(i)] = NAN;
    for (int64_t i : {3, 70, 100}) bv[size_t(i)] = NAN;
    a.host_base = from_vector(av, a.host_base.shape(), {dtype});
    b.host_base = from_vector(bv, b.host_base.shape(), {dtype});
    a.upload();
    b.upload();
    for (BinaryOp op : {BinaryOp::maximum, BinaryOp::minimum, BinaryOp::add, BinaryOp::lt}) {
      CAPTURE(binary_op_name(op));
      const Operand out = random_operand(is_comparison(op) ? DType::boolean : dtype, Shape{5, 33},
                                         Layout::contiguous, rng);
      primitives::binary(cpu(), op, a.host(), b.host(), out.host());
      primitives::binary(gpu(), op, a.device(), b.device(), out.device());
      check_same(out);
    }
    for (int axis : {0, 1}) {
      CAPTURE(axis);
      Shape kept{5, 33};
      kept[axis] = 1;
      const Operand out = random_operand(dtype, kept, Layout::contiguous, rng);
      const Operand arg = random_operand(DType::i64, kept, Layout::contiguous, rng);
      const View arg_host = arg.host(), arg_gpu = arg.device();
      primitives::reduce(cpu(), ReduceOp::max, a.host(), axis, out.host(), &arg_host);
      primitives::reduce(gpu(), ReduceOp::max, a.device(), axis, out.device(), &arg_gpu);
      check_same(out);
      check_same(arg);
    }
  }
}

TEST_CASE("where: every dtype, shape and layout") {
  std::mt19937 rng(8);
  for (DType dtype : kAllTypes)
    for (const Shape& shape : kShapes)
      for (Layout lc : {Layout::contiguous, Layout::broadcast, Layout::transposed})
        for (Layout la : {Layout::contiguous, Layout::sliced, Layout::broadcast, Layout::permuted}) {
          if (skip_large(shape, lc, la)) continue;
          INFO(describe(dtype_name(dtype), shape.str(), layout_name(lc), layout_name(la)));
          const Operand cond = random_operand(DType::boolean, shape, lc, rng);
          const Operand a = random_operand(dtype, shape, la, rng);
          const Operand b = random_operand(dtype, shape, Layout::transposed, rng);
          const Operand out = random_operand(dtype, shape, Layout::sliced, rng);
          primitives::where(cpu(), cond.host(), a.host(), b.host(), out.host());
          primitives::where(gpu(), cond.device(), a.device(), b.device(), out.device());
          check_same(out);
        }
}

// ---------------------------------------------------------------------------
// reduce

TEST_CASE("reduce: sum and max along every axis, with argmax") {
  std::mt19937 rng(9);
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max})
    for (DType dtype : kFloatTypes)
      for (const Shape& shape : kShapes)
        for (int axis = 0; axis < shape.size(); ++axis)
          for (Layout layout : kAllLayouts) {
            if (op == ReduceOp::max && shape[axis] == 0) continue;
            if (skip_large(shape, layout, layout) && layout != Layout::broadcast) continue;
            INFO(describe(op == ReduceOp::sum ? "sum" : "max", dtype_name(dtype), shape.str(), axis,
                          layout_name(layout)));
            // Whole numbers for max, so argmax must find the first of tied maxima.
            const Operand x = random_operand(dtype, shape, layout, rng, -5, 5, op == ReduceOp::max);
            Shape kept = shape;
            kept[axis] = 1;
            const Operand out = random_operand(dtype, kept, Layout::contiguous, rng);
            // For sum, argmax is passed too and must be left alone.
            const Operand arg = random_operand(DType::i64, kept, Layout::contiguous, rng);
            const View arg_host = arg.host(), arg_gpu = arg.device();
            primitives::reduce(cpu(), op, x.host(), axis, out.host(), &arg_host);
            primitives::reduce(gpu(), op, x.device(), axis, out.device(), &arg_gpu);
            check_same(out, op == ReduceOp::max ? kExact : tolerance(dtype, 5.0 * shape[axis]));
            check_same(arg);
          }
}

// ---------------------------------------------------------------------------
// matmul

// A (B, R, C) operand as cuBLAS meets it: row-major, transposed (its last two
// dimensions swapped), sliced (no unit stride: packed first), or broadcast
// over the batch (batch stride 0).
enum class MatLayout { row_major, transposed, sliced, batch_broadcast };
constexpr MatLayout kMatLayouts[] = {MatLayout::row_major, MatLayout::transposed, MatLayout::sliced,
                                     MatLayout::batch_broadcast};
const char* mat_layout_name(MatLayout layout) {
  switch (layout) {
    case MatLayout::row_major: return "row-major";
    case MatLayout::transposed: return "transposed";
    case MatLayout::sliced: return "sliced";
    case MatLayout::batch_broadcast: return "batch-broadcast";
  }
  return "?";
}

Operand random_matrix(DType dtype, int64_t batch, int64_t rows, int64_t cols, MatLayout layout, std::mt19937& rng) {
  switch (layout) {
    case MatLayout::row_major: return random_operand(dtype, Shape{batch, rows, cols}, Layout::contiguous, rng);
    case MatLayout::sliced: return random_operand(dtype, Shape{batch, rows, cols}, Layout::sliced, rng);
    case MatLayout::transposed: {
      Operand m = random_operand(dtype, Shape{batch, cols, rows}, Layout::contiguous, rng);  // stored (B, C, R)
      m.shape = Shape{batch, rows, cols};
      m.strides = Strides{cols * rows, 1, rows};
      return m;
    }
    case MatLayout::batch_broadcast: {
      Operand m = random_operand(dtype, Shape{1, rows, cols}, Layout::contiguous, rng);
      m.shape = Shape{batch, rows, cols};
      m.strides = Strides{0, cols, 1};
      return m;
    }
  }
  return {};
}

TEST_CASE("matmul: shapes, transposes, packing, batch broadcast, beta 0 and 1, K = 0") {
  const MatmulPrecisionGuard exact(MatmulPrecision::fp32);
  std::mt19937 rng(10);
  struct Dims {
    int64_t batch, m, k, n;
  };
  const Dims dims[] = {{1, 1, 1, 1},    {1, 2, 3, 4},  {3, 7, 33, 5},  {2, 65, 130, 33}, {4, 1, 7, 65},
                       {2, 33, 1, 3},   {2, 3, 0, 4},  {2, 0, 5, 3},   {1, 129, 257, 65}};
  for (DType dtype : kFloatTypes)
    for (const Dims& d : dims)
      for (MatLayout la : kMatLayouts)
        for (MatLayout lb : kMatLayouts)
          for (double beta : {0.0, 1.0}) {
            INFO(describe(dtype_name(dtype), d.batch, d.m, d.k, d.n, mat_layout_name(la), mat_layout_name(lb), beta));
            const Operand a = random_matrix(dtype, d.batch, d.m, d.k, la, rng);
            const Operand b = random_matrix(dtype, d.batch, d.k, d.n, lb, rng);
            Operand c = random_operand(dtype, Shape{d.batch, d.m, d.n}, Layout::contiguous, rng);
            if (beta == 0) {  // beta = 0 must ignore what c held, NaN included
              primitives::fill(cpu(), c.host(), NAN);
              c.upload();
            }
            primitives::matmul(cpu(), a.host(), b.host(), c.host(), beta);
            primitives::matmul(gpu(), a.device(), b.device(), c.device(), beta);
            check_same(c, tolerance(dtype, 10.0 * d.k));
          }
}

TEST_CASE("matmul: each precision equals the cpu's product of the same rounded inputs; float64 never rounds") {
  std::mt19937 rng(11);
  for (MatmulPrecision precision :
       {MatmulPrecision::fp32, MatmulPrecision::tf32, MatmulPrecision::bf16, MatmulPrecision::fp16}) {
    CAPTURE(matmul_precision_name(precision));
    const MatmulPrecisionGuard guard(precision);
    for (DType dtype : kFloatTypes) {
      CAPTURE(dtype_name(dtype));
      const Operand a = random_matrix(dtype, 2, 65, 257, MatLayout::row_major, rng);
      const Operand b = random_matrix(dtype, 2, 257, 33, MatLayout::transposed, rng);
      const Operand c = random_operand(dtype, Shape{2, 65, 33}, Layout::contiguous, rng);
      primitives::matmul(cpu(), a.host(), b.host(), c.host(), 0);  // rounds as core/dispatch/matmul_precision.h says
      primitives::matmul(gpu(), a.device(), b.device(), c.device(), 0);
      // Same rounded inputs, exact products: only the summation order differs,
      // unless cuBLAS rounds its inputs otherwise than to nearest (then each of
      // the 257 products of values in [-1, 1] is off by at most 2^-f, f the
      // format's fraction bits: 2^-7 for bf16, so 0.1 bounds the sum).
      const bool rounded = dtype == DType::f32 && precision != MatmulPrecision::fp32;
      check_same(c, rounded ? Tolerance{1e-2, 0.1} : tolerance(dtype, 10.0 * 257));
    }
  }
}

// ---------------------------------------------------------------------------
// gather, scatter-add

TEST_CASE("gather_rows and scatter_add_rows: repeated indices, strided tables, outputs and indices") {
  std::mt19937 rng(12);
  struct Dims {
    int64_t rows, cols, n;
  };
  for (DType dtype : kFloatTypes)
    for (const Dims& d : {Dims{1, 1, 1}, Dims{7, 3, 33}, Dims{65, 33, 7}, Dims{5, 130, 300}, Dims{257, 33, 1031},
                          Dims{300, 1, 40000}})
      for (Layout layout : kWritableLayouts)
        for (bool strided_index : {false, true}) {
          INFO(describe(dtype_name(dtype), d.rows, d.cols, d.n, layout_name(layout), strided_index));
          const Operand index = index_operand(random_indices(d.n, d.rows, rng), strided_index);  // repeats
          const Operand table = random_operand(dtype, Shape{d.rows, d.cols}, layout, rng);
          const Operand out = random_operand(dtype, Shape{d.n, d.cols}, layout, rng);
          primitives::gather_rows(cpu(), table.host(), index.host(), out.host());
          primitives::gather_rows(gpu(), table.device(), index.device(), out.device());
          check_same(out);

          const Operand src = random_operand(dtype, Shape{d.n, d.cols}, layout, rng);
          const Operand grad = random_operand(dtype, Shape{d.rows, d.cols}, layout, rng);
          primitives::scatter_add_rows(cpu(), src.host(), index.host(), grad.host());
          primitives::scatter_add_rows(gpu(), src.device(), index.device(), grad.device());
          check_same(grad, tolerance(dtype, double(d.n) / d.rows * 4));
        }
}

// The sum a serial loop over the rows gives, in T: table[k, :] += src[i, :] for i = 0, 1, …
template <typename T>
std::vector<T> serial_scatter_add(const std::vector<int64_t>& index, const std::vector<T>& src,
                                  std::vector<T> table, int64_t cols) {
  for (size_t i = 0; i < index.size(); ++i)
    for (int64_t j = 0; j < cols; ++j) table[size_t(index[i] * cols + j)] += src[i * size_t(cols) + size_t(j)];
  return table;
}

TEST_CASE("scatter_add_rows is deterministic: two runs give the same bits, a serial loop's") {
  std::mt19937 rng(13);
  for (DType dtype : kFloatTypes) {
    CAPTURE(dtype_name(dtype));
    // 40000 rows into 7: every table row receives thousands of additions.
    const std::vector<int64_t> ids = random_indices(40000, 7, rng);
    const Operand index = index_operand(ids);
    const Operand src = random_operand(dtype, Shape{40000, 33}, Layout::contiguous, rng);
    const Operand start = random_operand(dtype, Shape{7, 33}, Layout::contiguous, rng);
    std::vector<Tensor> results;
    for (int run = 0; run < 2; ++run) {
      const Tensor table = start.gpu_base.clone();
      primitives::scatter_add_rows(gpu(), src.device(), index.device(), make_view(table, start.shape, start.strides, 0).view());
      results.push_back(table.to_host());
    }
    const size_t bytes = size_t(results[0].numel()) * dtype_size(dtype);
    CHECK(std::memcmp(results[0].view().data, results[1].view().data, bytes) == 0);
    // Each table row's additions arrive in ascending row order, as in a serial loop.
    if (dtype == DType::f32)
      CHECK(results[0].to_vector<float>() == serial_scatter_add(ids, src.host_base.to_vector<float>(),
                                                                start.host_base.to_vector<float>(), 33));
    if (dtype == DType::f64)
      CHECK(results[0].to_vector<double>() == serial_scatter_add(ids, src.host_base.to_vector<double>(),
                                                                 start.host_base.to_vector<double>(), 33));
    // And it is the sum the cpu computes.
    primitives::scatter_add_rows(cpu(), src.host(), index.host(), start.host());
    check_close(results[0], start.host_base, tolerance(dtype, 40000.0 / 7 * 4), "scatter_add_rows");
  }
}

TEST_CASE("scatter_add_rows: an index outside the table is reported with its row when the host next waits") {
  for (const int64_t bad : {int64_t{9}, int64_t{-1}}) {
    CAPTURE(bad);
    const Operand index = index_operand({0, 2, bad, 2});
    const Tensor src = full(Shape{4, 5}, 1.0, {DType::f32, kGpu});
    const Tensor table = full(Shape{3, 5}, 0.0, {DType::f32, kGpu});
    primitives::scatter_add_rows(gpu(), src.view(), index.device(), table.view());
    const std::string message =
        fmt::format("scatter_add_rows: index {} at row 2 is out of range for a table of 3 rows (found on cuda:0)", bad);
    CHECK_THROWS_WITH_AS(table.to_host(), doctest::Contains(message.c_str()), tg::Error);
    // The rows with good indices were added.
    CHECK(table.to_host().to_vector<float>() ==
          std::vector<float>{1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2});
  }
}

// ---------------------------------------------------------------------------
// softmax, nll

TEST_CASE("softmax, log_softmax and their backward: rows of every size") {
  std::mt19937 rng(14);
  for (DType dtype : kFloatTypes)
    for (const Shape& shape : {Shape{1}, Shape{1, 1}, Shape{3, 7}, Shape{2, 3, 33}, Shape{65, 130}, Shape{300, 130},
                               Shape{3, 257}, Shape{2, 1031}, Shape{2, 4099}, Shape{4, 0}})
      for (bool log : {false, true})
        for (double center : {0.0, 1000.0}) {  // 1000: exp overflows unless the max is taken out first
          INFO(describe(dtype_name(dtype), shape.str(), log, center));
          const double scale = std::max<double>(10, shape.back());
          const Operand x = random_operand(dtype, shape, Layout::contiguous, rng, center - 10, center + 10);
          const Operand y = random_operand(dtype, shape, Layout::contiguous, rng);
          primitives::softmax(cpu(), x.host(), y.host(), log);
          primitives::softmax(gpu(), x.device(), y.device(), log);
          check_same(y, tolerance(dtype, scale));

          const Operand y_both = cpu_result_on_both(y);
          const Operand dy = random_operand(dtype, shape, Layout::contiguous, rng);
          const Operand dx = random_operand(dtype, shape, Layout::contiguous, rng);
          primitives::softmax_backward(cpu(), y_both.host(), dy.host(), dx.host(), log);
          primitives::softmax_backward(gpu(), y_both.device(), dy.device(), dx.device(), log);
          check_same(dx, tolerance(dtype, scale));
        }
}

TEST_CASE("adam_update: with and without amsgrad and weight decay, odd and large sizes") {
  std::mt19937 rng(15);
  for (DType dtype : kFloatTypes)
    for (const Shape& shape : {Shape{1}, Shape{7}, Shape{33, 9}, Shape{257, 1000}})
      for (bool amsgrad : {false, true})
        for (int decay : {0, 1, 2}) {  // none, L2 (Adam), decoupled (AdamW)
          INFO(describe(dtype_name(dtype), shape.str(), amsgrad, decay));
          AdamStep step;
          step.step_size = 1e-2 / (1 - std::pow(0.9, 2.0));
          step.sqrt_bias_correction2 = std::sqrt(1 - std::pow(0.999, 2.0));
          if (decay == 1) step.weight_decay = 0.1;
          if (decay == 2) step.param_scale = 1 - 1e-2 * 0.1;
          const Operand p = random_operand(dtype, shape, Layout::contiguous, rng);
          const Operand g = random_operand(dtype, shape, Layout::contiguous, rng);
          const Operand m = random_operand(dtype, shape, Layout::contiguous, rng);
          const Operand v = random_operand(dtype, shape, Layout::contiguous, rng, 0, 1e-3);
          const Operand v_max = random_operand(dtype, shape, Layout::contiguous, rng, 0, 1e-3);
          const View v_max_host = v_max.host(), v_max_device = v_max.device();
          kernels::adam_update(cpu(), {p.host(), g.host(), m.host(), v.host(), amsgrad ? v_max_host : View{}, step});
          kernels::adam_update(gpu(), {p.device(), g.device(), m.device(), v.device(), amsgrad ? v_max_device : View{}, step});
          for (const Operand* out : {&p, &m, &v, &v_max}) check_same(*out, tolerance(dtype));
        }
}

TEST_CASE("dropout_mask: the same mask as the cpu, bit for bit") {
  std::mt19937 rng(16);
  for (DType dtype : kFloatTypes)
    for (const Shape& shape : {Shape{1}, Shape{7}, Shape{33, 9}, Shape{64, 20, 512}})
      for (double p : {0.0, 0.2, 0.9}) {
        INFO(describe(dtype_name(dtype), shape.str(), p));
        const uint64_t key = (uint64_t(rng()) << 32) | rng();
        const Operand mask = random_operand(dtype, shape, Layout::contiguous, rng);
        kernels::dropout_mask(cpu(), {mask.host(), key, p});
        kernels::dropout_mask(gpu(), {mask.device(), key, p});
        check_same(mask);
      }
}

TEST_CASE("nll and nll_backward: ignore_index, label smoothing, broadcast dloss") {
  std::mt19937 rng(15);
  const int64_t ignore = -100;
  for (DType dtype : kFloatTypes)
    for (int64_t rows : {1, 7, 300})
      for (int64_t classes : {1, 33, 130, 1031})
        for (double smoothing : {0.0, 0.1})
          for (bool broadcast_dloss : {false, true}) {
            INFO(describe(dtype_name(dtype), rows, classes, smoothing, broadcast_dloss));
            std::vector<int64_t> targets = random_indices(rows, classes, rng);
            for (int64_t i = 0; i < rows; i += 3) targets[size_t(i)] = ignore;
            const Operand target = index_operand(targets);
            const Operand logp = random_operand(dtype, Shape{rows, classes}, Layout::contiguous, rng, -5, 0);
            const Operand loss = random_operand(dtype, Shape{rows}, Layout::contiguous, rng);
            kernels::nll(cpu(), {logp.host(), target.host(), ignore, smoothing, loss.host()});
            kernels::nll(gpu(), {logp.device(), target.device(), ignore, smoothing, loss.device()});
            check_same(loss, tolerance(dtype, 10.0 * classes));

            const Operand dloss = random_operand(dtype, Shape{rows},
                                                 broadcast_dloss ? Layout::broadcast : Layout::contiguous, rng);
            const Operand dlogp = random_operand(dtype, Shape{rows, classes}, Layout::contiguous, rng);
            kernels::nll_backward(cpu(), {target.host(), ignore, smoothing, dloss.host(), dlogp.host()});
            kernels::nll_backward(gpu(), {target.device(), ignore, smoothing, dloss.device(), dlogp.device()});
            check_same(dlogp, tolerance(dtype));
          }
}

TEST_CASE("matmul: float16 and bfloat16 inputs, c float32 or 16-bit, as the cpu's") {
  std::mt19937 rng(22);
  for (DType half : {DType::f16, DType::bf16})
    for (DType c_dtype : {DType::f32, half})
      for (MatLayout lb : {MatLayout::row_major, MatLayout::transposed, MatLayout::sliced}) {
        INFO(describe(dtype_name(half), dtype_name(c_dtype), mat_layout_name(lb)));
        const Operand a = random_matrix(half, 2, 65, 257, MatLayout::row_major, rng);
        const Operand b = random_matrix(half, 2, 257, 33, lb, rng);
        const Operand c = random_operand(c_dtype, Shape{2, 65, 33}, Layout::contiguous, rng);
        primitives::matmul(cpu(), a.host(), b.host(), c.host(), 1);
        primitives::matmul(gpu(), a.device(), b.device(), c.device(), 1);
        // Exact products summed in float32 in another order; a 16-bit c may round the other way once.
        check_same(c, c_dtype == DType::f32 ? Tolerance{1e-5, 1e-4} : Tolerance{half == DType::f16 ? 2e-3 : 1.6e-2, 1e-3});
      }
}

TEST_CASE("topk_rows: the cpu's columns exactly; ties, NaN, strided rows, beam-search sizes") {
  std::mt19937 rng(21);
  for (DType dtype : kFloatTypes)
    for (Layout layout : {Layout::contiguous, Layout::transposed})
      for (const Shape& shape : {Shape{1, 1}, Shape{3, 7}, Shape{64, 300}, Shape{8, 29605}})
        for (bool largest : {true, false}) {
          Operand x = random_operand(dtype, shape, layout, rng, -3, 3, /*whole=*/shape[1] < 1000);  // ties
          if (shape[1] > 4) {
            primitives::fill(cpu(), make_view(x.host_base, Shape{1}, Strides{1}, x.offset + 2 * x.strides[1]).view(), NAN);
            x.upload();
          }
          for (int64_t k : {int64_t{1}, std::min<int64_t>(10, shape[1]), std::min<int64_t>(300, shape[1])}) {
            INFO(describe(dtype_name(dtype), shape.str(), largest, k));
            Operand idx = random_operand(DType::i64, Shape{shape[0], k}, Layout::contiguous, rng);
            kernels::topk_rows(cpu(), {x.host(), largest, idx.host()});
            kernels::topk_rows(gpu(), {x.device(), largest, idx.device()});
            check_same(idx);
          }
        }
}

TEST_CASE("ctc_loss: loss and gradient equal the cpu's; repeats, blank not 0, infeasible, long targets") {
  std::mt19937 rng(17);
  struct Case {
    int64_t T, B, C, S, blank;
    bool infeasible;
  };
  // S = 200: 401 positions, more than one per thread of a block.
  for (const Case c : {Case{1, 1, 2, 1, 0, false}, Case{12, 3, 5, 4, 0, false}, Case{30, 4, 7, 6, 3, false},
                       Case{9, 2, 4, 6, 0, true}, Case{450, 2, 29, 200, 0, false}, Case{5, 3, 4, 0, 1, false}})
    for (DType dtype : kFloatTypes)
      for (bool with_grad : {true, false}) {
        INFO(describe(dtype_name(dtype), c.T, c.B, c.C, c.S, c.blank, c.infeasible, with_grad));
        std::uniform_real_distribution<double> uniform(-4, 0);
        std::vector<double> lp(size_t(c.T * c.B * c.C));
        for (double& v : lp) v = uniform(rng);
        const int64_t width = std::max<int64_t>(c.S, 1);  // S = 0: one unread column
        std::vector<int64_t> labels(size_t(c.B * width), 1 - c.blank % 2), steps, counts;
        std::uniform_int_distribution<int64_t> label(0, c.C - 2);
        for (int64_t b = 0; b < c.B; ++b) {
          for (int64_t j = 0; j < c.S; ++j) {
            const int64_t l = label(rng);
            labels[size_t(b * c.S + j)] = l >= c.blank ? l + 1 : l;  // skip the blank
          }
          if (c.S >= 2) labels[size_t(b * c.S + 1)] = labels[size_t(b * c.S)];  // a repeat
          // Infeasible: 6 labels with repeats cannot fit in fewer steps than labels.
          steps.push_back(c.infeasible && b == 0 ? 3 : c.T - b % 2);
          counts.push_back(std::max<int64_t>(0, c.S - b % 3));
        }
        const Tensor log_probs = from_vector(lp, Shape{c.T, c.B, c.C}, {dtype});
        const Tensor targets = from_vector(labels, Shape{c.B, width}, {DType::i64});
        const Tensor in_lengths = from_vector(steps, Shape{c.B}, {DType::i64});
        const Tensor out_lengths = from_vector(counts, Shape{c.B}, {DType::i64});
        Tensor loss_cpu = Tensor::empty(Shape{c.B}, {dtype}), grad_cpu;
        Tensor loss_gpu = Tensor::empty(Shape{c.B}, {dtype, kGpu}), grad_gpu;
        if (with_grad) {
          grad_cpu = Tensor::empty(log_probs.shape(), {dtype});
          grad_gpu = full(log_probs.shape(), NAN, {dtype, kGpu});  // every element must be written
        }
        {
          HostBackendScope scope(cpu());
          kernels::ctc_loss(cpu(), {log_probs.view(), targets.view(), in_lengths.view(), out_lengths.view(), c.blank,
                                    loss_cpu.view(), grad_cpu.defined() ? grad_cpu.view() : View{}});
        }
        const Tensor lp_gpu = log_probs.to(kGpu), targets_gpu = targets.to(kGpu), in_gpu = in_lengths.to(kGpu),
                     out_gpu = out_lengths.to(kGpu);
        kernels::ctc_loss(backend_for(kGpu), {lp_gpu.view(), targets_gpu.view(), in_gpu.view(), out_gpu.view(), c.blank,
                                              loss_gpu.view(), grad_gpu.defined() ? grad_gpu.view() : View{}});
        check_close(loss_gpu, loss_cpu, tolerance(dtype, double(c.T)), "loss");
        if (c.infeasible) CHECK(std::isinf(loss_gpu.to_vector<double>()[0]));
        if (with_grad) check_close(grad_gpu, grad_cpu, tolerance(dtype), "gradient");
      }
}

// ---------------------------------------------------------------------------
// devices, errors, memory

TEST_CASE("to and to_host: every dtype round-trips bit for bit") {
  std::mt19937 rng(16);
  for (DType dtype : kAllTypes)
    for (const Shape& shape : {Shape{}, Shape{1}, Shape{0}, Shape{7}, Shape{3, 40, 70}}) {
      INFO(describe(dtype_name(dtype), shape.str()));
      Operand o = random_operand(dtype, shape, Layout::contiguous, rng, -1e6, 1e6);
      if (is_floating(dtype) && shape.numel() > 1) {  // special values survive too
        std::vector<double> v = o.host_base.to_vector<double>();
        v[0] = NAN, v[1] = -INFINITY;
        o.host_base = from_vector(v, o.host_base.shape(), {dtype});
      }
      const Tensor host = make_view(o.host_base, shape, o.strides, 0);
      const Tensor on_gpu = host.to(kGpu);
      CHECK(on_gpu.device() == kGpu);
      CHECK(on_gpu.device().str() == "cuda:0");
      CHECK(on_gpu.shape() == shape);
      CHECK(on_gpu.dtype() == dtype);
      CHECK(on_gpu.to(kGpu).is_same(on_gpu));  // already there: no copy
      const Tensor back = on_gpu.to_host();
      CHECK(back.device() == Device::cpu());
      REQUIRE(back.shape() == shape);
      const size_t bytes = size_t(shape.numel()) * dtype_size(dtype);
      if (bytes > 0) CHECK(std::memcmp(back.view().data, host.view().data, bytes) == 0);
    }
  // A strided view arrives as a contiguous copy of its elements.
  const Operand t = random_operand(DType::f64, Shape{3, 40, 70}, Layout::transposed, rng);
  const Tensor view = make_view(t.host_base, t.shape, t.strides, t.offset);
  CHECK(view.to(kGpu).to_vector<double>() == view.to_vector<double>());
  // Reading values waits for the GPU: item, at, to_vector, and dtype conversion there.
  const Tensor g = from_vector(std::vector<double>{1.5, -2, 3}, Shape{3}, {DType::f64, kGpu});
  CHECK(g.at({1}) == -2);
  CHECK(tg::sum(g).item() == 2.5);
  CHECK(g.to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3});
  CHECK(g.to(DType::f32).device() == kGpu);
}

TEST_CASE("devices: parse_device, a missing GPU index, and ops that mix devices") {
  CHECK(parse_device("cpu") == Device::cpu());
  CHECK(parse_device("cuda") == Device::cuda(0));
  CHECK(parse_device("cuda:1") == Device::cuda(1));
  CHECK_THROWS_WITH_AS(parse_device("gpu"), doctest::Contains("unknown device 'gpu'"), Error);
  CHECK_THROWS_AS(parse_device("cuda:"), Error);
  CHECK_THROWS_AS(parse_device("cuda:-1"), Error);
  const Device past_last = Device::cuda(cuda::device_count());
  CHECK_THROWS_AS(Tensor::empty(Shape{2}, {DType::f32, past_last}), Error);

  const Tensor h = ones({2, 3});
  const Tensor g = ones({2, 3}, {DType::f32, kGpu});
  const Tensor h_ids = index_tensor({0, 1});
  const std::vector<std::pair<const char*, std::function<void()>>> mixed = {
      {"add", [&] { (void)(h + g); }},
      {"mul", [&] { (void)(g * h); }},
      {"matmul", [&] { (void)matmul(h, transpose(g, 0, 1)); }},
      {"concat", [&] { (void)concat({g, h}, 0); }},
      {"where", [&] { (void)where(gt(h, 0.0), g, g); }},
      {"masked_fill", [&] { (void)masked_fill(g, gt(h, 0.0), 0); }},
      {"embedding", [&] { (void)embedding(g, h_ids); }},
      {"index_select", [&] { (void)index_select(g, 0, h_ids); }},
      {"cross_entropy", [&] { (void)cross_entropy(g, h_ids); }},
      {"copy_into", [&] { compute::copy_into(h, g); }},
      {"add_into", [&] { compute::add_into(g, h); }},
  };
  for (const auto& [op_, body_] : mixed) {
    const auto& op = op_;  // a plain reference: clang 14 cannot capture a structured binding
    const auto& body = body_;
    CAPTURE(op);
    const std::string message = error_message(body);
    CAPTURE(message);
    CHECK(message.find("cpu") != std::string::npos);
    CHECK(message.find("cuda:0") != std::string::npos);
  }
}

TEST_CASE("caching allocator: once warm, repeating a training step makes no new device allocation") {
  Generator gen(17);
  const Tensor w = randn({64, 33}, {DType::f32, kGpu, true}, gen);
  const Tensor b = zeros({33}, {DType::f32, kGpu, true});
  auto step = [&] {
    const Tensor x = randn({37, 64}, {DType::f32, kGpu}, gen);
    const Tensor loss = mean(tanh(matmul(x, w) + b));
    loss.backward();
    w.set_grad(Tensor());
    b.set_grad(Tensor());
    return loss.item();
  };
  for (int i = 0; i < 3; ++i) step();
  const cuda::MemoryStats warm = cuda::memory_stats(kGpu);
  for (int i = 0; i < 20; ++i) step();
  const cuda::MemoryStats after = cuda::memory_stats(kGpu);
  CHECK(after.device_allocations == warm.device_allocations);
  CHECK(after.in_use_bytes == warm.in_use_bytes);
  CHECK(after.peak_in_use_bytes >= after.in_use_bytes);
  CHECK(after.cached_bytes > 0);
  cuda::release_cached(kGpu);
  CHECK(cuda::memory_stats(kGpu).cached_bytes == 0);
  CHECK(std::isfinite(step()));  // and it still works after giving memory back
}

int main(int argc, char** argv) { return run_cuda_test_program(argc, argv); }
