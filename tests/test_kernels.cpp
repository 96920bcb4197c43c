// Kernel tests at the View level: every cpu kernel against the reference
// backend on random data (f32 and f64, odd sizes, ranks 0..4, broadcast,
// transposed and sliced operands, sizes that take the threaded path), plus
// hand-computed values that check the reference itself, and error cases.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <bit>
#include <cmath>
#include <map>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/dispatch/primitives.h"
#include "core/dispatch/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_gemm.h"
#include "backends/cpu/cpu_math.h"
#include "backends/cpu/packed_operand_cache.h"
#include "bf16_kernel_guard.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_table.h"
#include "core/dispatch/matmul_precision.h"
#include "kernels/adam_update/adam_update.h"
#include "kernels/dropout_mask/dropout_mask.h"
#include "kernels/nll/nll.h"
#include "kernels/sum_squares/sum_squares.h"
#include "kernels/topk_rows/topk_rows.h"
#include "kernels/topk_rows/topk_order.h"
#include "backends/reference/reference_backend.h"

#include <unistd.h>

namespace {

using namespace tg;
using Index = Shape;  // a multi-index, inline: the checks build one per element

// The first multi-index of `shape`: all zeros.
Index zero_index(const Shape& shape) {
  Index index = shape;
  std::fill(index.begin(), index.end(), 0);
  return index;
}

// ---------------------------------------------------------------------------
// test arrays: host storage plus a layout (shape, strides, offset) over it

enum class Layout {
  contiguous,  // row-major
  transposed,  // dimensions stored in reverse order
  sliced,      // every other element of a larger buffer, starting at index (1, 1, ...)
  broadcast,   // even-numbered dimensions have stride 0
};
constexpr Layout kAllLayouts[] = {Layout::contiguous, Layout::transposed, Layout::sliced,
                                  Layout::broadcast};
constexpr Layout kWritableLayouts[] = {Layout::contiguous, Layout::transposed, Layout::sliced};

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::contiguous: return "contiguous";
    case Layout::transposed: return "transposed";
    case Layout::sliced: return "sliced";
    case Layout::broadcast: return "broadcast";
  }
  return "?";
}

// Copying an Array copies its storage, so each backend can get its own output.
struct Array {
  DType dtype = DType::f32;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  std::vector<uint64_t> words;  // 8-byte aligned storage for any dtype

  View view() const {
    auto* base = reinterpret_cast<char*>(const_cast<uint64_t*>(words.data()));
    return View{base + offset * dtype_size(dtype), dtype, shape, strides};
  }
  // Element at a multi-index, as double.
  double get(const Index& index) const {
    int64_t at = 0;
    for (int d = 0; d < shape.size(); ++d) at += index[d] * strides[d];
    const View v = view();
    switch (dtype) {
      case DType::f32: return v.as<float>()[at];
      case DType::f64: return v.as<double>()[at];
      case DType::i64: return double(v.as<int64_t>()[at]);
      case DType::boolean: return v.as<bool>()[at] ? 1 : 0;
      case DType::f16: return float(v.as<float16>()[at]);
      case DType::bf16: return float(v.as<bfloat16>()[at]);
      case DType::i8: return double(v.as<int8_t>()[at]);
    }
    return 0;
  }
  double get(std::initializer_list<int64_t> index) const { return get(Index(index)); }
};

// Storage holding `n` elements, all zero.
std::vector<uint64_t> zero_words(DType dtype, int64_t n) {
  return std::vector<uint64_t>((n * int64_t(dtype_size(dtype)) + 7) / 8 + 1, 0);
}

Array make_array(DType dtype, const Shape& shape, Layout layout = Layout::contiguous) {
  Array a{dtype, shape, contiguous_strides(shape), 0, {}};
  const int rank = shape.size();
  int64_t storage = shape.numel();
  if (layout == Layout::transposed) {
    Shape reversed;
    for (int d = rank - 1; d >= 0; --d) reversed.push_back(shape[d]);
    const Strides rs = contiguous_strides(reversed);
    for (int d = 0; d < rank; ++d) a.strides[d] = rs[rank - 1 - d];
  } else if (layout == Layout::sliced) {
    Shape big;
    for (int d = 0; d < rank; ++d) big.push_back(2 * shape[d] + 1);
    const Strides bs = contiguous_strides(big);
    for (int d = 0; d < rank; ++d) a.strides[d] = 2 * bs[d], a.offset += bs[d];
    storage = big.numel();
  } else if (layout == Layout::broadcast) {
    Shape stored = shape;
    for (int d = 0; d < rank; d += 2) stored[d] = 1;
    a.strides = contiguous_strides(stored);
    for (int d = 0; d < rank; d += 2) a.strides[d] = 0;
    storage = stored.numel();
  }
  a.words = zero_words(dtype, storage + a.offset);
  return a;
}

// Fills the whole storage (gaps included) with random values in [lo, hi];
// integers for i64, 0/1 for bool, and for floats rounded to whole numbers
// when `whole` (so that comparisons and maxima see ties).
void randomize(Array& a, std::mt19937& rng, double lo = -1, double hi = 1, bool whole = false) {
  const int64_t n = int64_t(a.words.size() * 8 / dtype_size(a.dtype));
  // lo + (hi - lo)·u for u = draw / 2³² in [0, 1): 32 random bits are plenty for test data, and
  // uniform_real_distribution's long-double arithmetic costs more than the kernels under the sanitizers.
  auto uniform = [&] { return lo + (hi - lo) * (double(rng()) * 0x1p-32); };
  auto* base = reinterpret_cast<char*>(a.words.data());
  for (int64_t i = 0; i < n; ++i) {
    const double v = whole ? std::round(uniform()) : uniform();
    switch (a.dtype) {
      case DType::f32: reinterpret_cast<float*>(base)[i] = float(v); break;
      case DType::f64: reinterpret_cast<double*>(base)[i] = v; break;
      case DType::i64: reinterpret_cast<int64_t*>(base)[i] = int64_t(std::round(v * 1000)); break;
      case DType::boolean: reinterpret_cast<bool*>(base)[i] = v > (lo + hi) / 2; break;
      case DType::f16: reinterpret_cast<float16*>(base)[i] = float16(float(v)); break;
      case DType::bf16: reinterpret_cast<bfloat16*>(base)[i] = bfloat16(float(v)); break;
      case DType::i8: reinterpret_cast<int8_t*>(base)[i] = int8_t(std::clamp(std::round(v * 100), -127.0, 127.0)); break;
    }
  }
}

Array random_array(DType dtype, const Shape& shape, Layout layout, std::mt19937& rng, double lo = -1,
                   double hi = 1, bool whole = false) {
  Array a = make_array(dtype, shape, layout);
  randomize(a, rng, lo, hi, whole);
  return a;
}

// An array with given contents (row-major), contiguous.
Array array_of(DType dtype, const Shape& shape, const std::vector<double>& values) {
  Array a = make_array(dtype, shape);
  const View v = a.view();
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::f32: v.as<float>()[i] = float(values[i]); break;
      case DType::f64: v.as<double>()[i] = values[i]; break;
      case DType::i64: v.as<int64_t>()[i] = int64_t(values[i]); break;
      case DType::boolean: v.as<bool>()[i] = values[i] != 0; break;
      case DType::f16: v.as<float16>()[i] = float16(float(values[i])); break;
      case DType::bf16: v.as<bfloat16>()[i] = bfloat16(float(values[i])); break;
      case DType::i8: v.as<int8_t>()[i] = int8_t(values[i]); break;
    }
  }
  return a;
}

Array index_array(const std::vector<int64_t>& values) {
  Array a = make_array(DType::i64, Shape{int64_t(values.size())});
  std::memcpy(a.words.data(), values.data(), values.size() * sizeof(int64_t));
  return a;
}

// ---------------------------------------------------------------------------
// comparison

struct Tolerance {
  double rtol, atol;
};
// Elementwise results; `scale` widens the absolute part for long sums.
Tolerance tolerance(DType dtype, double scale = 1) {
  return dtype == DType::f64 ? Tolerance{1e-12, 1e-13 * scale} : Tolerance{1e-5, 1e-6 * scale};
}

template <typename Fn>
void for_each_index(const Shape& shape, Fn fn) {
  if (shape.numel() == 0) return;
  Index index = zero_index(shape);
  for (;;) {
    fn(index);
    int d = shape.size() - 1;
    while (d >= 0 && ++index[d] == shape[d]) index[d--] = 0;
    if (d < 0) return;
  }
}

// Checks got ≈ want elementwise (NaN matches NaN), reporting the first miss.
void check_close(const Array& got, const Array& want, Tolerance tol = {0, 0}) {
  REQUIRE(got.shape == want.shape);
  int64_t misses = 0;
  std::string first;
  for_each_index(got.shape, [&](const Index& i) {
    const double g = got.get(i), w = want.get(i);
    const bool ok = (std::isnan(g) && std::isnan(w)) || g == w ||
                    std::abs(g - w) <= tol.atol + tol.rtol * std::abs(w);
    if (!ok && misses++ == 0)
      first = fmt::format("at ({}): got {} want {}", fmt::join(i, ", "), g, w);
  });
  INFO("shape ", got.shape.str(), ", ", misses, " mismatches, first ", first);
  CHECK(misses == 0);
}

void check_values(const Array& got, const std::vector<double>& want, double tol = 1e-6) {
  REQUIRE(got.shape.numel() == int64_t(want.size()));
  int64_t k = 0;
  for_each_index(got.shape, [&](const Index& i) {
    INFO("element ", k);
    CHECK(got.get(i) == doctest::Approx(want[k++]).epsilon(tol));
  });
}

// "a | b | c": what a failing check was looking at.
template <typename... Args>
std::string describe(const Args&... args) {
  std::string out;
  ((out += fmt::format("{} | ", args)), ...);
  return out;
}

Backend& cpu() { return cpu_backend(); }
Backend& ref() { return reference_backend(); }

// Shapes of rank 0..4 with odd sizes and one empty; (3, 40, 70) takes the
// tiled path when transposed, (130, 300) and (4, 33, 7, 65) exceed the
// threaded-path threshold (32768 elements).
const std::vector<Shape> kShapes = {Shape{},        Shape{1},        Shape{7},
                                    Shape{3, 5},    Shape{1, 33},    Shape{65, 1, 3},
                                    Shape{2, 3, 4, 5}, Shape{3, 40, 70}, Shape{130, 300},
                                    Shape{4, 33, 7, 65}, Shape{2, 0, 3}};
constexpr DType kFloatTypes[] = {DType::f32, DType::f64};
constexpr DType kAllTypes[] = {DType::f32, DType::f64, DType::i64, DType::boolean, DType::f16, DType::bf16, DType::i8};

// Large shapes take the threaded path; testing them in every combination of
// layouts would only repeat the small cases slowly, so they get a few.
bool skip_large(const Shape& shape, Layout a, Layout b) {
  const bool representative = (a == Layout::contiguous && b == Layout::contiguous) ||
                              (a == Layout::transposed && b == Layout::broadcast) ||
                              (a == Layout::sliced && b == Layout::sliced);
  return shape.numel() > 1000 && !representative;
}

// The threaded paths only run with more than one thread.
void use_two_threads() { set_num_threads(2); }

// ---------------------------------------------------------------------------
// elementwise kernels: cpu against reference

TEST_CASE("fill: every dtype, every writable layout") {
  use_two_threads();
  for (DType dtype : kAllTypes)
    for (const Shape& shape : kShapes)
      for (Layout layout : kWritableLayouts) {
        INFO(describe(dtype_name(dtype), shape.str(), layout_name(layout)));
        Array out_cpu = make_array(dtype, shape, layout), out_ref = out_cpu;
        primitives::fill(cpu(), out_cpu.view(), 2.5);
        primitives::fill(ref(), out_ref.view(), 2.5);
        check_close(out_cpu, out_ref);
        if (shape.numel() > 0)
          CHECK(out_cpu.get(zero_index(shape)) ==
                (dtype == DType::i64 || dtype == DType::i8 ? 2 : dtype == DType::boolean ? 1 : 2.5));
      }
}

TEST_CASE("copy: conversions between all dtypes") {
  use_two_threads();
  std::mt19937 rng(1);
  for (DType from : kAllTypes)
    for (DType to : kAllTypes)
      for (const Shape& shape : {Shape{}, Shape{7}, Shape{3, 5}, Shape{130, 300}}) {
        INFO(describe(dtype_name(from), dtype_name(to), shape.str()));
        const Array src = random_array(from, shape, Layout::transposed, rng, -3, 3);
        Array out_cpu = make_array(to, shape), out_ref = out_cpu;
        primitives::copy(cpu(), src.view(), out_cpu.view());
        primitives::copy(ref(), src.view(), out_ref.view());
        check_close(out_cpu, out_ref);
      }
}

TEST_CASE("copy: every pair of layouts") {
  use_two_threads();
  std::mt19937 rng(2);
  for (const Shape& shape : kShapes)
    for (Layout in_layout : kAllLayouts)
      for (Layout out_layout : kWritableLayouts) {
        INFO(describe(shape.str(), layout_name(in_layout), layout_name(out_layout)));
        const Array src = random_array(DType::f32, shape, in_layout, rng);
        Array out_cpu = make_array(DType::f64, shape, out_layout), out_ref = out_cpu;
        primitives::copy(cpu(), src.view(), out_cpu.view());
        primitives::copy(ref(), src.view(), out_ref.view());
        check_close(out_cpu, out_ref);
        check_close(out_cpu, src);  // f32 -> f64 is exact
      }
}

TEST_CASE("copy: hand-computed conversions") {
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    const Array f = array_of(DType::f64, Shape{4}, {0, 0.5, -2, 3.75});
    Array b = make_array(DType::boolean, Shape{4});
    primitives::copy(*backend, f.view(), b.view());
    check_values(b, {0, 1, 1, 1});
    Array f32 = make_array(DType::f32, Shape{4});
    primitives::copy(*backend, b.view(), f32.view());
    check_values(f32, {0, 1, 1, 1});
    Array i = make_array(DType::i64, Shape{4});
    primitives::copy(*backend, f.view(), i.view());
    check_values(i, {0, 0, -2, 3});  // truncation toward zero
    Array d = make_array(DType::f64, Shape{4});
    primitives::copy(*backend, i.view(), d.view());
    check_values(d, {0, 0, -2, 3});
  }
}

constexpr UnaryOp kUnaryOps[] = {UnaryOp::neg,  UnaryOp::exp,        UnaryOp::log,
                                 UnaryOp::sqrt, UnaryOp::tanh,       UnaryOp::sigmoid,
                                 UnaryOp::relu, UnaryOp::abs,        UnaryOp::erf, UnaryOp::pow_scalar,
                                 UnaryOp::mul_scalar, UnaryOp::add_scalar, UnaryOp::sin, UnaryOp::cos};

bool needs_positive(UnaryOp op) {
  return op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::pow_scalar;
}

TEST_CASE("unary and unary_backward: every op, dtype, shape and layout") {
  use_two_threads();
  std::mt19937 rng(3);
  for (UnaryOp op : kUnaryOps)
    for (double scalar : {2.0, -1.5})
      for (DType dtype : kFloatTypes)
        for (const Shape& shape : kShapes)
          for (Layout layout : kAllLayouts) {
            if (scalar != 2.0 && op != UnaryOp::pow_scalar && op != UnaryOp::mul_scalar) continue;
            if (skip_large(shape, layout, layout) && layout != Layout::broadcast) continue;
            INFO(describe(unary_op_name(op), scalar, dtype_name(dtype), shape.str(), layout_name(layout)));
            const double lo = needs_positive(op) ? 0.1 : -2;
            const Array x = random_array(dtype, shape, layout, rng, lo, 2);
            const Layout out_layout = layout == Layout::broadcast ? Layout::sliced : layout;
            Array y_cpu = make_array(dtype, shape, out_layout), y_ref = y_cpu;
            primitives::unary(cpu(), op, x.view(), y_cpu.view(), scalar);
            primitives::unary(ref(), op, x.view(), y_ref.view(), scalar);
            check_close(y_cpu, y_ref, tolerance(dtype));

            // dx += f'(x) dy, starting from a non-zero dx to check accumulation.
            const Array dy = random_array(dtype, shape, Layout::contiguous, rng);
            Array dx_cpu = random_array(dtype, shape, Layout::transposed, rng), dx_ref = dx_cpu;
            primitives::unary_backward(cpu(), op, x.view(), y_ref.view(), dy.view(), dx_cpu.view(), scalar);
            primitives::unary_backward(ref(), op, x.view(), y_ref.view(), dy.view(), dx_ref.view(), scalar);
            check_close(dx_cpu, dx_ref, tolerance(dtype));
          }
}

TEST_CASE("unary_backward: hand-computed derivatives") {
  // At x = 0.5: tanh' = 1 - tanh², σ' = σ(1-σ), (x³)' = 3x², (√x)' = 1/(2√x).
  const double x = 0.5, t = std::tanh(x), s = 1 / (1 + std::exp(-x));
  const struct {
    UnaryOp op;
    double scalar, y, want;
  } cases[] = {{UnaryOp::tanh, 0, t, 1 - t * t},
               {UnaryOp::sigmoid, 0, s, s * (1 - s)},
               {UnaryOp::pow_scalar, 3, x * x * x, 3 * x * x},
               {UnaryOp::sqrt, 0, std::sqrt(x), 0.5 / std::sqrt(x)},
               {UnaryOp::log, 0, std::log(x), 2},
               {UnaryOp::relu, 0, x, 1},
               {UnaryOp::abs, 0, x, 1},
               {UnaryOp::erf, 0, 0.52049987781304654, 0.87878257893544476},  // erf' = 2/√π e^(-x²)
               {UnaryOp::sin, 0, std::sin(x), std::cos(x)},
               {UnaryOp::cos, 0, std::cos(x), -std::sin(x)},
               {UnaryOp::neg, 0, -x, -1}};
  for (Backend* backend : {&cpu(), &ref()})
    for (const auto& c : cases) {
      INFO(describe(backend->name(), unary_op_name(c.op)));
      const Array xs = array_of(DType::f64, Shape{1}, {x});
      const Array ys = array_of(DType::f64, Shape{1}, {c.y});
      const Array dy = array_of(DType::f64, Shape{1}, {2});
      Array dx = array_of(DType::f64, Shape{1}, {1});
      primitives::unary_backward(*backend, c.op, xs.view(), ys.view(), dy.view(), dx.view(), c.scalar);
      check_values(dx, {1 + 2 * c.want}, 1e-12);
    }
}

constexpr BinaryOp kBinaryOps[] = {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div,
                                   BinaryOp::maximum, BinaryOp::minimum, BinaryOp::eq,
                                   BinaryOp::ne, BinaryOp::lt, BinaryOp::le, BinaryOp::gt,
                                   BinaryOp::ge};

TEST_CASE("binary: every op, dtype, shape and pair of layouts") {
  use_two_threads();
  std::mt19937 rng(4);
  for (BinaryOp op : kBinaryOps)
    for (DType dtype : kFloatTypes)
      for (const Shape& shape : kShapes)
        for (Layout la : kAllLayouts)
          for (Layout lb : {Layout::contiguous, Layout::broadcast, Layout::sliced}) {
            if (skip_large(shape, la, lb)) continue;
            INFO(describe(binary_op_name(op), dtype_name(dtype), shape.str(), layout_name(la),
                    layout_name(lb)));
            // Whole numbers in [-3, 3] so that comparisons and max/min meet ties.
            const bool whole = op != BinaryOp::div;
            const Array a = random_array(dtype, shape, la, rng, -3, 3, whole);
            const Array b = random_array(dtype, shape, lb, rng, -3, 3, whole);
            const DType out_type = is_comparison(op) ? DType::boolean : dtype;
            Array out_cpu = make_array(out_type, shape, Layout::transposed), out_ref = out_cpu;
            primitives::binary(cpu(), op, a.view(), b.view(), out_cpu.view());
            primitives::binary(ref(), op, a.view(), b.view(), out_ref.view());
            check_close(out_cpu, out_ref, tolerance(dtype));
          }
}

TEST_CASE("binary: out aliasing a accumulates in place") {
  use_two_threads();
  std::mt19937 rng(5);
  for (const Shape& shape : {Shape{7}, Shape{130, 300}})
    for (Layout layout : kWritableLayouts) {
      INFO(describe(shape.str(), layout_name(layout)));
      const Array b = random_array(DType::f32, shape, Layout::broadcast, rng);
      Array a_cpu = random_array(DType::f32, shape, layout, rng), a_ref = a_cpu;
      primitives::binary(cpu(), BinaryOp::add, a_cpu.view(), b.view(), a_cpu.view());
      primitives::binary(ref(), BinaryOp::add, a_ref.view(), b.view(), a_ref.view());
      check_close(a_cpu, a_ref, tolerance(DType::f32));
    }
}

TEST_CASE("binary: maximum and minimum propagate NaN") {
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    const Array a = array_of(DType::f64, Shape{3}, {NAN, 1, 2});
    const Array b = array_of(DType::f64, Shape{3}, {1, NAN, 3});
    Array out = make_array(DType::f64, Shape{3});
    primitives::binary(*backend, BinaryOp::maximum, a.view(), b.view(), out.view());
    CHECK(std::isnan(out.get({0})));
    CHECK(std::isnan(out.get({1})));
    CHECK(out.get({2}) == 3);
  }
}

TEST_CASE("where: every dtype, shape and layout") {
  use_two_threads();
  std::mt19937 rng(6);
  for (DType dtype : kAllTypes)
    for (const Shape& shape : kShapes)
      for (Layout lc : {Layout::contiguous, Layout::broadcast, Layout::transposed})
        for (Layout la : {Layout::contiguous, Layout::sliced, Layout::broadcast}) {
          if (skip_large(shape, lc, la)) continue;
          INFO(describe(dtype_name(dtype), shape.str(), layout_name(lc), layout_name(la)));
          const Array cond = random_array(DType::boolean, shape, lc, rng);
          const Array a = random_array(dtype, shape, la, rng);
          const Array b = random_array(dtype, shape, Layout::transposed, rng);
          Array out_cpu = make_array(dtype, shape), out_ref = out_cpu;
          primitives::where(cpu(), cond.view(), a.view(), b.view(), out_cpu.view());
          primitives::where(ref(), cond.view(), a.view(), b.view(), out_ref.view());
          check_close(out_cpu, out_ref);
        }
}

// ---------------------------------------------------------------------------
// reduce

TEST_CASE("reduce: sum and max along every axis, with argmax") {
  use_two_threads();
  std::mt19937 rng(7);
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max})
    for (DType dtype : kFloatTypes)
      for (const Shape& shape : kShapes)
        for (int axis = 0; axis < shape.size(); ++axis)
          for (Layout layout : kAllLayouts) {
            if (op == ReduceOp::max && shape[axis] == 0) continue;
            INFO(describe(op == ReduceOp::sum ? "sum" : "max", dtype_name(dtype), shape.str(), axis,
                    layout_name(layout)));
            // Whole numbers for max, so argmax must find the first of tied maxima.
            const Array x = random_array(dtype, shape, layout, rng, -5, 5, op == ReduceOp::max);
            Shape kept = shape;
            kept[axis] = 1;
            Array out_cpu = make_array(dtype, kept), out_ref = out_cpu;
            Array arg_cpu = make_array(DType::i64, kept), arg_ref = arg_cpu;
            const View arg_cpu_view = arg_cpu.view(), arg_ref_view = arg_ref.view();
            primitives::reduce(cpu(), op, x.view(), axis, out_cpu.view(), &arg_cpu_view);
            primitives::reduce(ref(), op, x.view(), axis, out_ref.view(), &arg_ref_view);
            check_close(out_cpu, out_ref, tolerance(dtype, 5.0 * shape[axis]));
            if (op == ReduceOp::max) check_close(arg_cpu, arg_ref);
          }
}

TEST_CASE("reduce: hand-computed sums, maxima, NaN and negative axis") {
  const Array x = array_of(DType::f32, Shape{2, 3}, {1, 2, 3, 4, 6, 5});
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    Array rows = make_array(DType::f32, Shape{1, 3}), cols = make_array(DType::f32, Shape{2, 1});
    primitives::reduce(*backend, ReduceOp::sum, x.view(), 0, rows.view(), nullptr);
    check_values(rows, {5, 8, 8});
    primitives::reduce(*backend, ReduceOp::sum, x.view(), -1, cols.view(), nullptr);
    check_values(cols, {6, 15});
    Array arg = make_array(DType::i64, Shape{2, 1});
    const View arg_view = arg.view();
    primitives::reduce(*backend, ReduceOp::max, x.view(), 1, cols.view(), &arg_view);
    check_values(cols, {3, 6});
    check_values(arg, {2, 1});

    const Array with_nan = array_of(DType::f64, Shape{4}, {1, NAN, 7, NAN});
    Array m = make_array(DType::f64, Shape{1});
    Array m_arg = make_array(DType::i64, Shape{1});
    const View m_arg_view = m_arg.view();
    primitives::reduce(*backend, ReduceOp::max, with_nan.view(), 0, m.view(), &m_arg_view);
    CHECK(std::isnan(m.get({0})));
    CHECK(m_arg.get({0}) == 1);

    // Long rows (a search step's scores; the cpu takes them a vector at a time): the first of tied maxima, the
    // first of -0 and +0 (value and sign), a NaN from where it stands, in float32 and float64.
    for (DType dtype : {DType::f32, DType::f64}) {
      INFO(dtype_name(dtype));
      const int64_t n = 1000;
      std::vector<double> values(static_cast<size_t>(5 * n), -1.0);
      values[300] = values[700] = 5;                     // row 0: tie, the first wins
      values[n + 5] = -0.0, values[n + 9] = 0.0;         // row 1: -0 first
      values[2 * n + 400] = NAN, values[2 * n + 800] = 9;  // row 2: NaN wins
      std::fill_n(values.begin() + 3 * n, n, -INFINITY);  // row 3: all -inf, the first
      values[5 * n - 1] = 2;                              // row 4: the last column, past the whole chunks of 16
      const Array rows3 = array_of(dtype, Shape{5, n}, values);
      Array best = make_array(dtype, Shape{5, 1}), at = make_array(DType::i64, Shape{5, 1});
      const View at_view = at.view();
      primitives::reduce(*backend, ReduceOp::max, rows3.view(), 1, best.view(), &at_view);
      CHECK(best.get({0, 0}) == 5);
      CHECK(at.get({0, 0}) == 300);
      CHECK(best.get({1, 0}) == 0);
      CHECK(std::signbit(best.get({1, 0})));
      CHECK(at.get({1, 0}) == 5);
      CHECK(std::isnan(best.get({2, 0})));
      CHECK(at.get({2, 0}) == 400);
      CHECK(best.get({3, 0}) == -INFINITY);
      CHECK(at.get({3, 0}) == 0);
      CHECK(best.get({4, 0}) == 2);
      CHECK(at.get({4, 0}) == n - 1);
    }
  }
}

// ---------------------------------------------------------------------------
// matmul

// A (B, R, C) operand in one of the layouts BLAS meets: row-major, with its
// last two dimensions swapped (a transpose), sliced (no unit stride: packed),
// or broadcast over the batch (batch stride 0).
enum class MatLayout { row_major, transposed, sliced, batch_broadcast };

Array make_matrix(DType dtype, int64_t batch, int64_t rows, int64_t cols, MatLayout layout,
                  std::mt19937& rng) {
  Array a;
  switch (layout) {
    case MatLayout::row_major: a = make_array(dtype, Shape{batch, rows, cols}); break;
    case MatLayout::sliced: a = make_array(dtype, Shape{batch, rows, cols}, Layout::sliced); break;
    case MatLayout::transposed: {
      a = make_array(dtype, Shape{batch, cols, rows});  // stored (B, C, R)
      a.shape = Shape{batch, rows, cols};
      a.strides = Strides{cols * rows, 1, rows};
      break;
    }
    case MatLayout::batch_broadcast: {
      a = make_array(dtype, Shape{1, rows, cols});
      a.shape[0] = batch;
      a.strides[0] = 0;
      break;
    }
  }
  randomize(a, rng);
  return a;
}

TEST_CASE("matmul: shapes, transposes, packing, batch broadcast and beta") {
  std::mt19937 rng(8);
  struct Dims {
    int64_t batch, m, k, n;
  };
  // The last four reach the float32 kernel's blocks (backends/cpu/cpu_gemm.h, where this build uses it):
  // computed transposed (few rows against a wide b: Cᵀ = bᵀ aᵀ) in 1152-row blocks; then (float32, plain or
  // transposed operands) k past one 256-deep block, more than 8 panels of 32 columns with a narrow last one,
  // 12-row tiles and a remainder, split over the threads by columns, by rows (one panel, many rows), and
  // transposed.
  const Dims dims[] = {{1, 1, 1, 1}, {1, 2, 3, 4}, {3, 7, 33, 5}, {2, 65, 130, 33},
                       {4, 1, 7, 65}, {2, 33, 1, 3}, {2, 3, 0, 4}, {2, 0, 5, 3},
                       {1, 3, 40, 2500}, {1, 130, 280, 300}, {1, 240, 300, 30}, {1, 26, 280, 290}};
  const MatLayout layouts[] = {MatLayout::row_major, MatLayout::transposed, MatLayout::sliced,
                               MatLayout::batch_broadcast};
  for (DType dtype : kFloatTypes)
    for (const Dims& d : dims)
      for (MatLayout la : layouts)
        for (MatLayout lb : layouts)
          for (double beta : {0.0, 1.0}) {
            const bool large = d.m * d.k * d.n > 1'000'000;  // float32, plain and transposed operands only
            if (large && (dtype != DType::f32 || la > MatLayout::transposed || lb > MatLayout::transposed)) continue;
            INFO(describe(dtype_name(dtype), d.batch, d.m, d.k, d.n, int(la), int(lb), beta));
            const Array a = make_matrix(dtype, d.batch, d.m, d.k, la, rng);
            const Array b = make_matrix(dtype, d.batch, d.k, d.n, lb, rng);
            Array c_cpu = random_array(dtype, Shape{d.batch, d.m, d.n}, Layout::contiguous, rng);
            if (beta == 0) primitives::fill(cpu(), c_cpu.view(), NAN);  // beta = 0 must ignore what c held
            Array c_ref = c_cpu;
            primitives::matmul(cpu(), a.view(), b.view(), c_cpu.view(), beta);
            primitives::matmul(ref(), a.view(), b.view(), c_ref.view(), beta);
            check_close(c_cpu, c_ref, tolerance(dtype, 10.0 * d.k));
          }
}

TEST_CASE("matmul: a hand-computed 2x2 product") {
  const Array a = array_of(DType::f32, Shape{1, 2, 2}, {1, 2, 3, 4});
  const Array b = array_of(DType::f32, Shape{1, 2, 2}, {5, 6, 7, 8});
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    Array c = array_of(DType::f32, Shape{1, 2, 2}, {1, 1, 1, 1});
    primitives::matmul(*backend, a.view(), b.view(), c.view(), 0);
    check_values(c, {19, 22, 43, 50});
    primitives::matmul(*backend, a.view(), b.view(), c.view(), 1);
    check_values(c, {38, 44, 86, 100});
  }
}

TEST_CASE("matmul precision: tf32 rounds to 10 fraction bits, nearest, ties to even; inf and NaN stay") {
  CHECK(round_to_tf32(1.0f + 0x1p-11f) == 1.0f);                  // tie, down to the even 1
  CHECK(round_to_tf32(1.0f + 3 * 0x1p-11f) == 1.0f + 0x1p-9f);    // tie, up to the even neighbour
  CHECK(round_to_tf32(1.0f + 0x1p-11f + 0x1p-20f) == 1.0f + 0x1p-10f);  // past the tie
  CHECK(round_to_tf32(-(1.0f + 0x1p-12f)) == -1.0f);
  CHECK(std::isinf(round_to_tf32(0x1.fffffep127f)));              // rounds past the largest: inf
  CHECK(std::isinf(round_to_tf32(INFINITY)));
  CHECK(std::isnan(round_to_tf32(NAN)));
  CHECK(round_to_precision(1.0f + 0x1p-9f, MatmulPrecision::bf16) == 1.0f);  // bf16 keeps 7 bits
  CHECK(round_to_precision(70000.0f, MatmulPrecision::fp16) == INFINITY);     // past float16's range
  CHECK(round_to_precision(70000.0f, MatmulPrecision::bf16) == 70144.0f);
  CHECK(parse_matmul_precision("bf16") == MatmulPrecision::bf16);
  CHECK_THROWS_WITH_AS(parse_matmul_precision("half", "--precision"),
                       "--precision: expected fp32, tf32, bf16 or fp16, got 'half'", tg::Error);
}

TEST_CASE("matmul precision: cpu and reference multiply the rounded inputs exactly; float64 is never rounded") {
  std::mt19937 rng(12);
  for (MatmulPrecision precision :
       {MatmulPrecision::fp32, MatmulPrecision::tf32, MatmulPrecision::bf16, MatmulPrecision::fp16}) {
    const MatmulPrecisionGuard guard(precision);
    for (DType dtype : kFloatTypes)
      for (MatLayout lb : {MatLayout::row_major, MatLayout::transposed, MatLayout::batch_broadcast}) {
        INFO(describe(matmul_precision_name(precision), dtype_name(dtype), int(lb)));
        const int64_t batch = 2, m = 13, k = 300, n = 40;
        const Array a = make_matrix(dtype, batch, m, k, MatLayout::sliced, rng);
        const Array b = make_matrix(dtype, batch, k, n, lb, rng);
        const Array c_before = random_array(dtype, Shape{batch, m, n}, Layout::contiguous, rng);
        Array c_cpu = c_before, c_ref = c_before;
        primitives::matmul(cpu(), a.view(), b.view(), c_cpu.view(), 1);
        primitives::matmul(ref(), a.view(), b.view(), c_ref.view(), 1);
        // Independently: inputs rounded here, products and sums in double.
        const bool rounds = dtype == DType::f32 && precision != MatmulPrecision::fp32;
        auto input = [&](double v) { return rounds ? double(round_to_precision(float(v), precision)) : v; };
        double farthest_from_rounded = 0, farthest_from_unrounded = 0;
        for (int64_t i = 0; i < batch; ++i)
          for (int64_t r = 0; r < m; ++r)
            for (int64_t c = 0; c < n; ++c) {
              double rounded = c_before.get({i, r, c}), unrounded = rounded;
              for (int64_t j = 0; j < k; ++j) {
                rounded += input(a.get({i, r, j})) * input(b.get({i, j, c}));
                unrounded += a.get({i, r, j}) * b.get({i, j, c});
              }
              for (const Array* got : {&c_cpu, &c_ref}) {
                farthest_from_rounded = std::max(farthest_from_rounded, std::abs(got->get({i, r, c}) - rounded));
                farthest_from_unrounded = std::max(farthest_from_unrounded, std::abs(got->get({i, r, c}) - unrounded));
              }
            }
        // float32 sums of 300 terms in [-1, 1]: within 1e-4; float64 within 1e-12.
        CHECK(farthest_from_rounded < (dtype == DType::f64 ? 1e-12 : 1e-4));
        // bf16 keeps 7 fraction bits: products move by ~1e-3, so some sum visibly does.
        if (rounds && precision == MatmulPrecision::bf16) CHECK(farthest_from_unrounded > 1e-3);
        // Inputs that are not rounded (float64, or fp32 precision) land as near the unrounded sums: not ~1e-3 off.
        // (Not compared for equality with the rounded distance: the compiler may fuse the two sums' multiply-adds
        // differently.)
        if (!rounds) CHECK(farthest_from_unrounded < (dtype == DType::f64 ? 1e-12 : 1e-4));
      }
  }
}

namespace {
// Each bf16 kernel that runs here in turn (amx where the processor has the tiles), set with Bf16KernelGuard.
std::vector<tg::cpu::Bf16Kernel> bf16_kernels_here() {
  std::vector<tg::cpu::Bf16Kernel> kernels{tg::cpu::Bf16Kernel::dpbf16, tg::cpu::Bf16Kernel::fma};
  if (tg::cpu::amx_tiles_run_here()) kernels.push_back(tg::cpu::Bf16Kernel::amx);
  return kernels;
}
}  // namespace

TEST_CASE("matmul precision bf16: each kernel (vdpbf16ps, fma on rounded inputs, AMX tiles where they run) on every blocking path and remainder, within the summation bound") {
  if (!tg::cpu::bf16_products_built()) {
    MESSAGE("skipped: this build has no AVX512-BF16 target (bf16 products round copies and run in float32 here, "
            "which the test above checks)");
    return;
  }
  std::mt19937 rng(15);
  struct Dims {
    int64_t batch, m, k, n;
  };
  // Odd k (a last pair with one value), k past one block (256 deep for the fma kernel and the tiles, 512 for
  // vdpbf16ps: 531 is two, the second with an odd last pair), more than 8 panels with a narrow last one, 12-row
  // tiles and a remainder, the transposed form (few rows against a wide b), split by columns and by rows.
  const Dims dims[] = {{1, 1, 1, 1},      {2, 3, 5, 7},      {3, 13, 33, 40},  {1, 130, 281, 300},
                       {1, 3, 41, 2500},  {1, 240, 300, 30}, {2, 26, 257, 290}, {4, 1, 7, 65},
                       {1, 14, 531, 70},  {1, 2, 531, 1200}, {3, 1, 300, 17},  {2, 17, 1, 40}};
  const MatmulPrecisionGuard guard(MatmulPrecision::bf16);
  for (tg::cpu::Bf16Kernel kernel : bf16_kernels_here())
  for (int threads : {1, 2}) {
    const Bf16KernelGuard use(kernel);
    set_num_threads(threads);
    for (const Dims& d : dims)
      for (MatLayout la : {MatLayout::row_major, MatLayout::transposed, MatLayout::sliced})
        for (MatLayout lb : {MatLayout::row_major, MatLayout::transposed, MatLayout::batch_broadcast})
          for (double beta : {0.0, 1.0}) {
            INFO(describe(int(kernel), threads, d.batch, d.m, d.k, d.n, int(la), int(lb), beta));
            const Array a = make_matrix(DType::f32, d.batch, d.m, d.k, la, rng);
            const Array b = make_matrix(DType::f32, d.batch, d.k, d.n, lb, rng);
            const Array c_before = random_array(DType::f32, Shape{d.batch, d.m, d.n}, Layout::contiguous, rng);
            Array c = c_before;
            if (beta == 0) primitives::fill(cpu(), c.view(), NAN);  // beta = 0 must ignore what c held
            primitives::matmul(cpu(), a.view(), b.view(), c.view(), beta);
            // Independently: the inputs rounded to bfloat16 here, products and sums in double; a float32 sum of
            // n terms is within n·2⁻²⁴·Σ|term| of the exact one, whatever the order. A batch of one-row or
            // one-term products is bound by memory and runs in float32 (cpu_backend.cpp): not rounded.
            const bool float32_thin = d.batch > 1 && (d.m == 1 || d.k == 1);
            auto bf16 = [&](double v) { return float32_thin ? v : double(float(tg::bfloat16(float(v)))); };
            // The rounded inputs read once, dense: (batch, m, k) and (batch, n, k).
            std::vector<double> a_r(static_cast<size_t>(d.batch * d.m * d.k)), b_t(static_cast<size_t>(d.batch * d.n * d.k));
            for (int64_t i = 0; i < d.batch; ++i)
              for (int64_t j = 0; j < d.k; ++j) {
                for (int64_t r = 0; r < d.m; ++r) a_r[static_cast<size_t>((i * d.m + r) * d.k + j)] = bf16(a.get({i, r, j}));
                for (int64_t col = 0; col < d.n; ++col)
                  b_t[static_cast<size_t>((i * d.n + col) * d.k + j)] = bf16(b.get({i, j, col}));
              }
            double worst = 0;  // the largest error as a share of its bound
            for (int64_t i = 0; i < d.batch; ++i)
              for (int64_t r = 0; r < d.m; ++r)
                for (int64_t col = 0; col < d.n; ++col) {
                  double exact = beta == 1 ? c_before.get({i, r, col}) : 0, magnitude = std::abs(exact);
                  const double* ar = a_r.data() + (i * d.m + r) * d.k;
                  const double* bc = b_t.data() + (i * d.n + col) * d.k;
                  for (int64_t j = 0; j < d.k; ++j) {
                    const double term = ar[j] * bc[j];
                    exact += term;
                    magnitude += std::abs(term);
                  }
                  const double bound = double(d.k + 1) * 0x1p-24 * magnitude + 1e-30;
                  worst = std::max(worst, std::abs(c.get({i, r, col}) - exact) / bound);
                }
            CHECK(worst <= 1.0);
          }
  }
  set_num_threads(2);
}

TEST_CASE("training asked for bf16 keeps float32 products where bfloat16 ones are not faster, and says so") {
  if (std::getenv("TG_BF16_KERNEL") != nullptr) {
    MESSAGE("skipped: TG_BF16_KERNEL is set, and training then runs bf16 as asked");
    return;
  }
  {
    const Bf16KernelGuard use(tg::cpu::Bf16Kernel::fma);  // Intel's choice: vdpbf16ps at half float32's rate
    const tg::TrainingPrecision fma = tg::training_precision(MatmulPrecision::bf16, tg::Device::cpu());
    CHECK(fma.precision == MatmulPrecision::fp32);
    CHECK(fma.note.find("so they stay fp32") != std::string::npos);
  }
  if (tg::cpu::bf16_products_built()) {
    const Bf16KernelGuard use(tg::cpu::Bf16Kernel::dpbf16);  // AMD's: twice the multiply-adds a cycle
    const tg::TrainingPrecision dpbf16 = tg::training_precision(MatmulPrecision::bf16, tg::Device::cpu());
    CHECK(dpbf16.precision == MatmulPrecision::bf16);
    CHECK(dpbf16.note.empty());
  }
  if (tg::cpu::amx_tiles_run_here()) {
    const Bf16KernelGuard use(tg::cpu::Bf16Kernel::amx);  // Intel's with AMX: 16 times float32's a cycle
    const tg::TrainingPrecision amx = tg::training_precision(MatmulPrecision::bf16, tg::Device::cpu());
    CHECK(amx.precision == MatmulPrecision::bf16);
    CHECK(amx.note.empty());
  }
  for (MatmulPrecision other : {MatmulPrecision::fp32, MatmulPrecision::tf32, MatmulPrecision::fp16})
    CHECK(tg::training_precision(other, tg::Device::cpu()).precision == other);
}

TEST_CASE("matmul precision bf16: each kernel gives the same bits on 1 and 2 threads and for a row alone") {
  if (!tg::cpu::bf16_products_built()) {
    MESSAGE("skipped: this build has no AVX512-BF16 target");
    return;
  }
  std::mt19937 rng(16);
  const MatmulPrecisionGuard guard(MatmulPrecision::bf16);
  for (tg::cpu::Bf16Kernel kernel : bf16_kernels_here()) {
  const Bf16KernelGuard use(kernel);
  CAPTURE(int(kernel));
  const int64_t m = 64, k = 520, n = 700;
  const Array a = make_matrix(DType::f32, 1, m, k, MatLayout::row_major, rng);
  const Array b = make_matrix(DType::f32, 1, k, n, MatLayout::transposed, rng);
  Array one = random_array(DType::f32, Shape{1, m, n}, Layout::contiguous, rng), two = one;
  set_num_threads(1);
  primitives::matmul(cpu(), a.view(), b.view(), one.view(), 0);
  set_num_threads(2);
  primitives::matmul(cpu(), a.view(), b.view(), two.view(), 0);
  CHECK(std::memcmp(one.view().data, two.view().data, sizeof(float) * m * n) == 0);
  // Row 5 alone (a decoder step of one sentence) equals row 5 of the batch.
  Array a_row = a;  // row 5 of a, shape (1, 1, k)
  a_row.shape = Shape{1, 1, k};
  a_row.strides = Strides{k, k, 1};
  a_row.offset = 5 * k;
  Array row = random_array(DType::f32, Shape{1, 1, n}, Layout::contiguous, rng);
  primitives::matmul(cpu(), a_row.view(), b.view(), row.view(), 0);
  for (int64_t col = 0; col < n; ++col) CHECK(row.get({0, 0, col}) == two.get({0, 5, col}));
  }
}

// The own float32 kernel's thin paths (cpu_gemm.cpp): B read in place, no packing.
TEST_CASE("float32 products of one row or one term read B in place and give the packed tiles' bits") {
  if (!tg::cpu::use_own_sgemm()) {
    MESSAGE("skipped: float32 products run on OpenBLAS here");
    return;
  }
  std::mt19937 rng(21);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    // One row against B's rows (row_times_matrix) or columns (row_times_columns, 16 k a transpose): row 5 alone
    // equals row 5 of a 40-row product on the tiles, for k within one 256-deep block, past it, with and without
    // a last run of 16; n across the 16 lanes and the two sets of them.
    for (int64_t k : {2, 7, 16, 255, 256, 300, 1100})
      for (int64_t n : {1, 5, 16, 17, 33, 70})
        for (MatLayout lb : {MatLayout::row_major, MatLayout::transposed})
          for (double beta : {0.0, 1.0}) {
            INFO(describe(threads, k, n, int(lb), beta));
            const int64_t m = 40, r = 5;
            const Array a = make_matrix(DType::f32, 1, m, k, MatLayout::row_major, rng);
            const Array b = make_matrix(DType::f32, 1, k, n, lb, rng);
            const Array c_before = random_array(DType::f32, Shape{1, m, n}, Layout::contiguous, rng);
            Array all = c_before;
            primitives::matmul(cpu(), a.view(), b.view(), all.view(), beta);
            Array a_row = a;
            a_row.shape = Shape{1, 1, k};
            a_row.strides = Strides{k, k, 1};
            a_row.offset = r * k;
            std::vector<double> row_before(static_cast<size_t>(n));
            for (int64_t j = 0; j < n; ++j) row_before[static_cast<size_t>(j)] = c_before.get({0, r, j});
            Array row = array_of(DType::f32, Shape{1, 1, n}, row_before);
            primitives::matmul(cpu(), a_row.view(), b.view(), row.view(), beta);
            int64_t differing = 0;
            for (int64_t j = 0; j < n; ++j) differing += row.get({0, 0, j}) != all.get({0, r, j});
            CHECK(differing == 0);
          }
    // One term (k = 1, any rows, a batch split over the threads): each element a · b rounded once, then added.
    for (MatLayout la : {MatLayout::row_major, MatLayout::transposed})
      for (MatLayout lb : {MatLayout::row_major, MatLayout::transposed})
        for (double beta : {0.0, 1.0}) {
          INFO(describe(threads, int(la), int(lb), beta));
          const int64_t batch = 5, m = 37, n = 1030;
          const Array a = make_matrix(DType::f32, batch, m, 1, la, rng);
          const Array b = make_matrix(DType::f32, batch, 1, n, lb, rng);
          const Array c_before = random_array(DType::f32, Shape{batch, m, n}, Layout::contiguous, rng);
          Array c = c_before;
          primitives::matmul(cpu(), a.view(), b.view(), c.view(), beta);
          int64_t differing = 0;
          for (int64_t i = 0; i < batch; ++i)
            for (int64_t r = 0; r < m; ++r)
              for (int64_t j = 0; j < n; ++j) {
                const float product = std::fma(float(a.get({i, r, 0})), float(b.get({i, 0, j})), 0.0f);
                const float expected = beta == 1 ? float(c_before.get({i, r, j})) + product : product;
                differing += std::memcmp(&expected, &c.view().as<float>()[(i * m + r) * n + j], sizeof(float)) != 0;
              }
          CHECK(differing == 0);
        }
  }
  set_num_threads(2);
}

TEST_CASE("matmul precision bf16: AMX products large enough for the threads to share A's conversion agree with the fma kernel and give one thread's bits") {
  if (!tg::cpu::bf16_products_built() || !tg::cpu::amx_tiles_run_here()) {
    MESSAGE("skipped: no AMX tiles here (the shared conversion is their kernel's)");
    return;
  }
  std::mt19937 rng(18);
  // 3.9 · 10⁸ multiply-adds (2²⁸ and more share the conversion), 1500 rows of k = 2600: two chunks of converted
  // A (1472 rows fill its 8 MB); 4 panels, split by columns.
  const int64_t m = 1500, k = 2600, n = 100;
  uint64_t storage_id = uint64_t{1} << 61;  // far from the ids of real storages
  auto absolute = [](Array x) {  // |x|, every stored value
    auto* values = reinterpret_cast<float*>(x.words.data());
    for (size_t i = 0; i < x.words.size() * 2; ++i) values[i] = std::fabs(values[i]);
    return x;
  };
  struct Form {
    MatLayout a, b;
    bool parameter;
  };
  // Each A form and each B form, B kept packed with each of them (4 of the 8 pairs: each takes 0.6 s under
  // the sanitizers).
  const Form forms[] = {{MatLayout::row_major, MatLayout::row_major, false},
                        {MatLayout::row_major, MatLayout::transposed, true},
                        {MatLayout::transposed, MatLayout::row_major, true},
                        {MatLayout::transposed, MatLayout::transposed, false}};
  for (const Form& form : forms) {
    const MatLayout la = form.a, lb = form.b;
    const bool parameter = form.parameter;
    INFO(describe(int(la), int(lb), parameter));
    const Array a = make_matrix(DType::f32, 1, m, k, la, rng), b = make_matrix(DType::f32, 1, k, n, lb, rng);
    View bv = b.view();
    if (parameter) bv.storage_id = ++storage_id, bv.storage_version = 1;  // kept packed
    auto product = [&](tg::cpu::Bf16Kernel kernel, int threads) {
      const MatmulPrecisionGuard guard(MatmulPrecision::bf16);
      const Bf16KernelGuard use(kernel);
      set_num_threads(threads);
      Array c = random_array(DType::f32, Shape{1, m, n}, Layout::contiguous, rng);
      primitives::matmul(cpu(), a.view(), bv, c.view(), 0);
      return c;
    };
    const Array two = product(tg::cpu::Bf16Kernel::amx, 2), one = product(tg::cpu::Bf16Kernel::amx, 1);
    CHECK(std::memcmp(two.view().data, one.view().data, sizeof(float) * m * n) == 0);
    // The fma kernel sums the same bfloat16 products one k at a time: each side is within (k + 1)·2⁻²⁴·Σ|term|
    // of the exact sum, Σ|term| ≤ (|a| @ |b|)·(1 + 2⁻⁸)² (inputs rounded to bfloat16).
    const Array fma = product(tg::cpu::Bf16Kernel::fma, 2);
    Array magnitude = random_array(DType::f32, Shape{1, m, n}, Layout::contiguous, rng);
    {
      const MatmulPrecisionGuard guard(MatmulPrecision::fp32);
      primitives::matmul(cpu(), absolute(a).view(), absolute(b).view(), magnitude.view(), 0);
    }
    double worst = 0;  // the largest difference as a share of its bound
    for (int64_t r = 0; r < m; ++r)
      for (int64_t col = 0; col < n; ++col) {
        const double bound = 2 * double(k + 1) * 0x1p-24 * 1.01 * magnitude.get({0, r, col}) + 1e-30;
        worst = std::max(worst, std::abs(two.get({0, r, col}) - fma.get({0, r, col})) / bound);
      }
    CHECK(worst <= 1.0);
  }
  set_num_threads(2);
}

TEST_CASE("matmul precision bf16 (vdpbf16ps): products that convert A once give the bits of converting each row tile") {
  if (!tg::cpu::bf16_products_built()) {
    MESSAGE("skipped: this build has no AVX512-BF16 target");
    return;
  }
  std::mt19937 rng(19);
  const MatmulPrecisionGuard guard(MatmulPrecision::bf16);
  const Bf16KernelGuard use(tg::cpu::Bf16Kernel::dpbf16);
  uint64_t storage_id = uint64_t{1} << 60;  // far from the ids of real storages
  struct Case {
    int64_t m, k, n;
  };
  // From 2²⁸ multiply-adds A is converted once where it would be converted again (cpu_gemm.cpp): (300, 20000)
  // fills its 8 MB in 204 rows (two chunks), 4 panels, once per thread when the columns are split; (100, 5001),
  // 19 panels, again for the second group of 16 even on one thread. k past whole 512-deep blocks, odd in the last.
  for (const Case& shape : {Case{300, 20000, 100}, Case{100, 5001, 600}})
    for (MatLayout la : {MatLayout::row_major, MatLayout::transposed})
      for (bool parameter : {false, true})
        for (double beta : {0.0, 1.0}) {
          const int64_t m = shape.m, k = shape.k, n = shape.n;
          INFO(describe(m, k, n, int(la), parameter, beta));
          const Array a = make_matrix(DType::f32, 1, m, k, la, rng);
          const Array b = make_matrix(DType::f32, 1, k, n, MatLayout::row_major, rng);
          View bv = b.view();
          if (parameter) bv.storage_id = ++storage_id, bv.storage_version = 1;  // kept packed
          const Array c_before = random_array(DType::f32, Shape{1, m, n}, Layout::contiguous, rng);
          // Each tile converted as it is used: column blocks of at most 16 panels on one thread.
          set_num_threads(1);
          std::vector<float> expected(static_cast<size_t>(m * n));
          for (int64_t j0 = 0; j0 < n; j0 += 512) {
            const int64_t width = std::min<int64_t>(512, n - j0);
            Array b_part = b;
            b_part.shape = Shape{1, k, width};
            b_part.offset = j0;
            Array c_part = make_array(DType::f32, Shape{1, m, width});
            for (int64_t r = 0; r < m; ++r)
              for (int64_t j = 0; j < width; ++j)
                c_part.view().as<float>()[r * width + j] = static_cast<float>(c_before.get({0, r, j0 + j}));
            primitives::matmul(cpu(), a.view(), b_part.view(), c_part.view(), beta);
            for (int64_t r = 0; r < m; ++r)
              for (int64_t j = 0; j < width; ++j)
                expected[static_cast<size_t>(r * n + j0 + j)] = c_part.view().as<float>()[r * width + j];
          }
          for (int threads : {1, 2}) {
            CAPTURE(threads);
            set_num_threads(threads);
            Array c = c_before;
            primitives::matmul(cpu(), a.view(), bv, c.view(), beta);
            CHECK(std::memcmp(c.view().data, expected.data(), sizeof(float) * m * n) == 0);
          }
        }
  set_num_threads(2);
}

TEST_CASE("a parameter's B is packed once per version, with the bits of packing every time: bf16, float32 for few rows, rounded copies") {
  // The kernels that keep a parameter's packing: each bf16 kernel, and the float32 one (m <= 512 rows); and
  // the rounded float32 copy that tf32 and fp16 products (bf16 too, without AVX512-BF16) multiply.
  struct Setting {
    MatmulPrecision precision;
    tg::cpu::Bf16Kernel bf16_kernel;
  };
  std::vector<Setting> settings;
  if (tg::cpu::bf16_products_built())
    for (tg::cpu::Bf16Kernel kernel : bf16_kernels_here()) settings.push_back({MatmulPrecision::bf16, kernel});
  if (tg::cpu::use_own_sgemm()) settings.push_back({MatmulPrecision::fp32, tg::cpu::bf16_kernel()});
  for (MatmulPrecision rounded : {MatmulPrecision::tf32, MatmulPrecision::fp16})
    settings.push_back({rounded, tg::cpu::bf16_kernel()});
  std::mt19937 rng(17);
  tg::cpu::PackedOperandCache& cache = tg::cpu::packed_operand_cache();
  cache.clear();
  uint64_t storage_id = uint64_t{1} << 62;  // far from the ids of real storages
  for (const Setting& setting : settings)
  for (int threads : {1, 2}) {
    const MatmulPrecisionGuard guard(setting.precision);
    const Bf16KernelGuard use(setting.bf16_kernel);
    set_num_threads(threads);
    // A recurrent step's shapes (W_hhᵀ as a transposed view, and W_hh itself), odd sizes, several k blocks.
    for (const std::tuple<int64_t, int64_t, int64_t>& mkn :
         {std::tuple<int64_t, int64_t, int64_t>{64, 96, 288}, {7, 520, 70}, {13, 33, 1}})
      for (MatLayout lb : {MatLayout::row_major, MatLayout::transposed, MatLayout::batch_broadcast}) {
        const int64_t m = std::get<0>(mkn), k = std::get<1>(mkn), n = std::get<2>(mkn);  // no structured binding:
                                                                                     // clang 14 cannot capture one
        INFO(describe(matmul_precision_name(setting.precision), int(setting.bf16_kernel), threads, m, k, n, int(lb)));
        const Array a = make_matrix(DType::f32, 2, m, k, MatLayout::row_major, rng);
        Array b = make_matrix(DType::f32, 2, k, n, lb, rng);
        auto product = [&](uint64_t id, uint64_t version) {
          View bv = b.view();
          bv.storage_id = id;
          bv.storage_version = version;
          Array c = random_array(DType::f32, Shape{2, m, n}, Layout::contiguous, rng);
          primitives::matmul(cpu(), a.view(), bv, c.view(), 0);
          return c;
        };
        auto same_bits = [&](const Array& x, const Array& y) {
          return std::memcmp(x.view().data, y.view().data, sizeof(float) * 2 * m * n) == 0;
        };
        ++storage_id;
        const auto before = cache.stats();
        const Array packed_each_time = product(0, 0);
        CHECK(cache.stats().misses == before.misses);  // not a parameter: nothing kept
        CHECK(same_bits(product(storage_id, 1), packed_each_time));
        CHECK(same_bits(product(storage_id, 1), packed_each_time));
        const auto after = cache.stats();
        CHECK(after.hits > before.hits);
        // Written in place (a new version): the next product reads the new values, not the kept packing.
        randomize(b, rng);
        const Array fresh = product(0, 0);
        CHECK(!same_bits(fresh, packed_each_time));
        CHECK(same_bits(product(storage_id, 2), fresh));
        CHECK(cache.stats().entries == after.entries);  // version 1's entry replaced, not kept beside
      }
  }
  set_num_threads(2);
  cache.clear();
}

TEST_CASE("packed operand cache: threads asking for one operand at once pack it once and keep one entry") {
  // The interleaving of a batch sharing one B on two threads: the second asks while the first still packs.
  tg::cpu::PackedOperandCache cache;
  const tg::cpu::PackedKey key{.storage_id = 7, .version = 1, .rows = 4, .cols = 4};
  std::atomic<int> packings{0};
  std::atomic<bool> second_asking{false};
  auto pack = [&](uint32_t* words) {
    ++packings;
    while (!second_asking) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the second thread is inside get() by now
    for (int i = 0; i < 16; ++i) words[i] = static_cast<uint32_t>(i);
  };
  std::shared_ptr<const tg::cpu::PackedOperandCache::Words> first, second;
  std::thread packer([&] { first = cache.get(key, 16, pack); });
  while (packings == 0) std::this_thread::yield();
  std::thread asker([&] {
    second_asking = true;
    second = cache.get(key, 16, pack);
  });
  packer.join();
  asker.join();
  CHECK(packings == 1);
  CHECK(first == second);
  CHECK((*second)[15] == 15);
  const auto stats = cache.stats();
  CHECK(stats.entries == 1);
  CHECK(stats.misses == 1);
  CHECK(stats.hits == 1);
  // A packing that throws leaves no entry; the next ask packs.
  const tg::cpu::PackedKey other{.storage_id = 8, .version = 1, .rows = 4, .cols = 4};
  CHECK_THROWS_AS(cache.get(other, 16, [](uint32_t*) { throw std::runtime_error("no"); }), std::runtime_error);
  CHECK(cache.stats().entries == 1);
  CHECK((*cache.get(other, 16, [](uint32_t* w) { w[0] = 3; }))[0] == 3);
  CHECK(cache.stats().entries == 2);
}

TEST_CASE("matmul: float16 and bfloat16 inputs, sums in float32, c float32 or 16-bit") {
  std::mt19937 rng(14);
  for (DType half : {DType::f16, DType::bf16})
    for (DType c_dtype : {DType::f32, half})
      for (double beta : {0.0, 1.0}) {
        INFO(describe(dtype_name(half), dtype_name(c_dtype), beta));
        const int64_t batch = 2, m = 9, k = 200, n = 33;
        const Array a = make_matrix(half, batch, m, k, MatLayout::sliced, rng);
        const Array b = make_matrix(half, batch, k, n, MatLayout::transposed, rng);
        const Array c_before = random_array(c_dtype, Shape{batch, m, n}, Layout::contiguous, rng);
        Array c_cpu = c_before, c_ref = c_before;
        primitives::matmul(cpu(), a.view(), b.view(), c_cpu.view(), beta);
        primitives::matmul(ref(), a.view(), b.view(), c_ref.view(), beta);
        // The exact product of the stored 16-bit values, rounded once to c's type at most.
        const double c_ulp = c_dtype == DType::f32 ? 1e-4 : half == DType::f16 ? 0.05 : 0.4;  // |sum| < ~20
        double farthest = 0;
        for (int64_t i = 0; i < batch; ++i)
          for (int64_t r = 0; r < m; ++r)
            for (int64_t c = 0; c < n; ++c) {
              double want = beta * c_before.get({i, r, c});
              for (int64_t j = 0; j < k; ++j) want += a.get({i, r, j}) * b.get({i, j, c});
              for (const Array* got : {&c_cpu, &c_ref}) farthest = std::max(farthest, std::abs(got->get({i, r, c}) - want));
            }
        CHECK(farthest < c_ulp);
        CHECK(farthest > 0);  // not exact: a float32 or 16-bit result of 200 products
      }
  // Mixed inputs are refused, naming the dtypes.
  const Array a = make_matrix(DType::bf16, 1, 2, 2, MatLayout::row_major, rng);
  const Array b = make_matrix(DType::f16, 1, 2, 2, MatLayout::row_major, rng);
  Array c = make_array(DType::f32, Shape{1, 2, 2});
  for (Backend* backend : {&cpu(), &ref()}) CHECK_THROWS_AS(primitives::matmul(*backend, a.view(), b.view(), c.view(), 0), tg::Error);
  Array c64 = make_array(DType::f64, Shape{1, 2, 2});
  for (Backend* backend : {&cpu(), &ref()}) CHECK_THROWS_AS(primitives::matmul(*backend, a.view(), a.view(), c64.view(), 0), tg::Error);
}

TEST_CASE("copy: hand-computed conversions to and from float16 and bfloat16") {
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    // ties to even; float16's largest finite and the first value rounding to inf; NaN; a subnormal
    const Array f = array_of(DType::f64, Shape{6}, {1 + 0x1p-11, 1 + 3 * 0x1p-11, 65504, 65520, NAN, 0x1p-24});
    Array h = make_array(DType::f16, Shape{6});
    primitives::copy(*backend, f.view(), h.view());
    CHECK(h.get({0}) == 1.0);
    CHECK(h.get({1}) == 1 + 0x1p-9);
    CHECK(h.get({2}) == 65504);
    CHECK(std::isinf(h.get({3})));
    CHECK(std::isnan(h.get({4})));
    CHECK(h.get({5}) == 0x1p-24);
    Array bf = make_array(DType::bf16, Shape{6});
    primitives::copy(*backend, f.view(), bf.view());
    CHECK(bf.get({0}) == 1.0);
    CHECK(bf.get({2}) == 65536);  // 65504 = 1.9990234375 · 2¹⁵: bfloat16 keeps 7 bits
    CHECK(bf.get({3}) == 65536);
    CHECK(bf.get({5}) == 0x1p-24);  // bfloat16 has float32's range
    Array i = make_array(DType::i64, Shape{6});
    const Array h2 = array_of(DType::f16, Shape{6}, {2.5, -2.5, 0, 1, 3, 7});
    primitives::copy(*backend, h2.view(), i.view());
    check_values(i, {2, -2, 0, 1, 3, 7});  // truncation toward zero
    Array b = make_array(DType::boolean, Shape{6});
    primitives::copy(*backend, h2.view(), b.view());
    check_values(b, {1, 1, 0, 1, 1, 1});
  }
}

TEST_CASE("topk_rows: cpu equals reference; value order, NaN largest, ties by column, strided rows") {
  std::mt19937 rng(13);
  for (DType dtype : kFloatTypes)
    for (Layout layout : {Layout::contiguous, Layout::transposed, Layout::sliced})
      for (const Shape& shape : {Shape{1, 1}, Shape{3, 7}, Shape{5, 300}, Shape{64, 129}})
        for (bool largest : {true, false}) {
          Array x = make_array(dtype, shape, layout);
          randomize(x, rng, -3, 3, /*whole=*/true);  // whole numbers: many ties
          if (shape[1] > 4)  // NaN in row 0, column 2, and in the last row past the first k columns
            for (const auto& [r, c] : {std::pair{int64_t{0}, int64_t{2}}, std::pair{shape[0] - 1, shape[1] / 2},
                                      std::pair{shape[0] - 1, shape[1] - 3}}) {
              char* at = static_cast<char*>(x.view().data) +
                         (r * x.strides[0] + c * x.strides[1]) * int64_t(dtype_size(dtype));
              primitives::fill(cpu(), View{at, dtype, Shape{1}, Strides{1}}, NAN);
            }
          for (int64_t k : {int64_t{0}, int64_t{1}, std::min<int64_t>(10, shape[1]), shape[1]}) {
            INFO(describe(dtype_name(dtype), layout_name(layout), shape.str(), largest, k));
            Array got = make_array(DType::i64, Shape{shape[0], k}), want = got;
            kernels::topk_rows(cpu(), {x.view(), largest, got.view()});
            kernels::topk_rows(ref(), {x.view(), largest, want.view()});
            check_close(got, want);
            // The rows' order holds: each picked entry ranks before the next, and before every entry not picked.
            for (int64_t r = 0; r < shape[0]; ++r) {
              std::vector<bool> picked(static_cast<size_t>(shape[1]), false);
              for (int64_t j = 0; j < k; ++j) picked[static_cast<size_t>(got.get({r, j}))] = true;
              for (int64_t j = 0; j + 1 < k; ++j) {
                const int64_t a = int64_t(got.get({r, j})), b = int64_t(got.get({r, j + 1}));
                CHECK(topk_ranks_before(x.get({r, a}), a, x.get({r, b}), b, largest));
              }
              if (k > 0)
                for (int64_t c = 0; c < shape[1]; ++c)
                  if (!picked[static_cast<size_t>(c)]) {
                    const int64_t last = int64_t(got.get({r, k - 1}));
                    CHECK(topk_ranks_before(x.get({r, last}), last, x.get({r, c}), c, largest));
                  }
            }
          }
        }
}

TEST_CASE("topk_rows: hand-computed rows and argument errors") {
  const Array x = array_of(DType::f64, Shape{2, 5}, {1, 3, 3, NAN, -INFINITY, 0, 0, 0, 0, 0});
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    Array idx = make_array(DType::i64, Shape{2, 4});
    kernels::topk_rows(*backend, {x.view(), true, idx.view()});
    check_values(idx, {3, 1, 2, 0, 0, 1, 2, 3});  // NaN first, the tie 3 = 3 by column; all-equal rows in column order
    kernels::topk_rows(*backend, {x.view(), false, idx.view()});
    check_values(idx, {4, 0, 1, 2, 0, 1, 2, 3});
    Array too_many = make_array(DType::i64, Shape{2, 6});
    CHECK_THROWS_WITH_AS(kernels::topk_rows(*backend, {x.view(), true, too_many.view()}),
                         "topk_rows: indices (2, 6) for x (2, 5): expected (R, k) with k <= n for x (R, n)", tg::Error);
    Array wrong = make_array(DType::f64, Shape{2, 2});
    CHECK_THROWS_AS(kernels::topk_rows(*backend, {x.view(), true, wrong.view()}), tg::Error);
  }
}

// ---------------------------------------------------------------------------
// gather / scatter-add

std::vector<int64_t> random_indices(int64_t n, int64_t rows, std::mt19937& rng) {
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  std::vector<int64_t> out(n);
  for (int64_t& i : out) i = pick(rng);
  return out;
}

TEST_CASE("gather_rows and scatter_add_rows: repeated indices, layouts, threaded sizes") {
  use_two_threads();
  std::mt19937 rng(9);
  struct Dims {
    int64_t rows, cols, n;
  };
  for (DType dtype : kFloatTypes)
    for (const Dims& d : {Dims{1, 1, 1}, Dims{7, 3, 33}, Dims{65, 33, 7}, Dims{5, 130, 300},
                          Dims{300, 1, 40000}})
      for (Layout layout : kWritableLayouts) {
        INFO(describe(dtype_name(dtype), d.rows, d.cols, d.n, layout_name(layout)));
        const Array index = index_array(random_indices(d.n, d.rows, rng));  // repeats: n > rows
        const Array table = random_array(dtype, Shape{d.rows, d.cols}, layout, rng);
        Array out_cpu = make_array(dtype, Shape{d.n, d.cols}, layout), out_ref = out_cpu;
        primitives::gather_rows(cpu(), table.view(), index.view(), out_cpu.view());
        primitives::gather_rows(ref(), table.view(), index.view(), out_ref.view());
        check_close(out_cpu, out_ref);

        const Array src = random_array(dtype, Shape{d.n, d.cols}, layout, rng);
        Array t_cpu = random_array(dtype, Shape{d.rows, d.cols}, layout, rng), t_ref = t_cpu;
        primitives::scatter_add_rows(cpu(), src.view(), index.view(), t_cpu.view());
        primitives::scatter_add_rows(ref(), src.view(), index.view(), t_ref.view());
        check_close(t_cpu, t_ref, tolerance(dtype, double(d.n) / d.rows * 4));
      }
}

TEST_CASE("gather_rows and scatter_add_rows: hand-computed") {
  const Array table = array_of(DType::f64, Shape{3, 2}, {0, 1, 10, 11, 20, 21});
  const Array index = index_array({2, 0, 2});
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    Array out = make_array(DType::f64, Shape{3, 2});
    primitives::gather_rows(*backend, table.view(), index.view(), out.view());
    check_values(out, {20, 21, 0, 1, 20, 21});
    Array grad = make_array(DType::f64, Shape{3, 2});
    const Array src = array_of(DType::f64, Shape{3, 2}, {1, 2, 3, 4, 5, 6});
    primitives::scatter_add_rows(*backend, src.view(), index.view(), grad.view());
    check_values(grad, {3, 4, 0, 0, 6, 8});
  }
}

// ---------------------------------------------------------------------------
// softmax and nll

TEST_CASE("softmax and softmax_backward: rows of every size") {
  use_two_threads();
  std::mt19937 rng(10);
  for (DType dtype : kFloatTypes)
    for (const Shape& shape : {Shape{1}, Shape{1, 1}, Shape{3, 7}, Shape{2, 3, 33}, Shape{65, 130},
                               Shape{300, 130}, Shape{4, 0}})
      for (bool log : {false, true}) {
        INFO(describe(dtype_name(dtype), shape.str(), log));
        const Array x = random_array(dtype, shape, Layout::contiguous, rng, -10, 10);
        Array y_cpu = make_array(dtype, shape), y_ref = y_cpu;
        primitives::softmax(cpu(), x.view(), y_cpu.view(), log);
        primitives::softmax(ref(), x.view(), y_ref.view(), log);
        check_close(y_cpu, y_ref, tolerance(dtype));

        const Array dy = random_array(dtype, shape, Layout::contiguous, rng);
        Array dx_cpu = random_array(dtype, shape, Layout::contiguous, rng), dx_ref = dx_cpu;
        primitives::softmax_backward(cpu(), y_ref.view(), dy.view(), dx_cpu.view(), log);
        primitives::softmax_backward(ref(), y_ref.view(), dy.view(), dx_ref.view(), log);
        check_close(dx_cpu, dx_ref, tolerance(dtype, 10));
      }
}

TEST_CASE("softmax: hand-computed, and stable for large inputs") {
  const Array x = array_of(DType::f64, Shape{2, 2}, {0, std::log(2.0), 1000, 1000 + std::log(2.0)});
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    Array y = make_array(DType::f64, Shape{2, 2});
    primitives::softmax(*backend, x.view(), y.view(), false);
    check_values(y, {1.0 / 3, 2.0 / 3, 1.0 / 3, 2.0 / 3}, 1e-12);
    primitives::softmax(*backend, x.view(), y.view(), true);
    check_values(y, {std::log(1.0 / 3), std::log(2.0 / 3), std::log(1.0 / 3), std::log(2.0 / 3)},
                 1e-12);
  }
}

TEST_CASE("nll and nll_backward: ignore_index, smoothing, broadcast dloss") {
  use_two_threads();
  std::mt19937 rng(11);
  const int64_t ignore = -100;
  for (DType dtype : kFloatTypes)
    for (int64_t rows : {1, 7, 300})
      for (int64_t classes : {1, 33, 130})
        for (double smoothing : {0.0, 0.1})
          for (bool broadcast_dloss : {false, true}) {
            INFO(describe(dtype_name(dtype), rows, classes, smoothing, broadcast_dloss));
            std::vector<int64_t> targets = random_indices(rows, classes, rng);
            for (int64_t i = 0; i < rows; i += 3) targets[i] = ignore;
            const Array target = index_array(targets);
            const Array logp = random_array(dtype, Shape{rows, classes}, Layout::contiguous, rng, -5, 0);
            Array loss_cpu = make_array(dtype, Shape{rows}), loss_ref = loss_cpu;
            kernels::nll(cpu(), {logp.view(), target.view(), ignore, smoothing, loss_cpu.view()});
            kernels::nll(ref(), {logp.view(), target.view(), ignore, smoothing, loss_ref.view()});
            check_close(loss_cpu, loss_ref, tolerance(dtype, 10));
            CHECK(loss_cpu.get({0}) == 0);  // row 0 is ignored

            const Array dloss = random_array(
                dtype, Shape{rows}, broadcast_dloss ? Layout::broadcast : Layout::contiguous, rng);
            Array d_cpu = random_array(dtype, Shape{rows, classes}, Layout::contiguous, rng);
            Array d_ref = d_cpu;
            kernels::nll_backward(cpu(), {target.view(), ignore, smoothing, dloss.view(), d_cpu.view()});
            kernels::nll_backward(ref(), {target.view(), ignore, smoothing, dloss.view(), d_ref.view()});
            check_close(d_cpu, d_ref, tolerance(dtype));
          }
}

TEST_CASE("nll: hand-computed loss and gradient") {
  // logp row [-1, -2], target 1: loss = 2; with ε = 0.2:
  // -(0.8)(-2) - 0.1 (-1 - 2) = 1.9, dlogp = -[0.1, 0.9].
  const Array logp = array_of(DType::f64, Shape{2, 2}, {-1, -2, -3, -4});
  const Array target = index_array({1, -1});
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    Array loss = make_array(DType::f64, Shape{2});
    kernels::nll(*backend, {logp.view(), target.view(), -1, 0, loss.view()});
    check_values(loss, {2, 0}, 1e-12);
    kernels::nll(*backend, {logp.view(), target.view(), -1, 0.2, loss.view()});
    check_values(loss, {1.9, 0}, 1e-12);
    const Array dloss = array_of(DType::f64, Shape{2}, {1, 1});
    Array dlogp = make_array(DType::f64, Shape{2, 2});
    kernels::nll_backward(*backend, {target.view(), -1, 0.2, dloss.view(), dlogp.view()});
    check_values(dlogp, {-0.1, -0.9, 0, 0}, 1e-12);
  }
}

// ---------------------------------------------------------------------------
// errors and fallback

TEST_CASE("errors name the bad index, target or dtype") {
  const Array table = make_array(DType::f32, Shape{4, 2});
  const Array index = index_array({0, 4});
  const Array logp = make_array(DType::f32, Shape{2, 3});
  const Array target = index_array({1, 3});
  Array out = make_array(DType::f32, Shape{2, 2});
  Array loss = make_array(DType::f32, Shape{2});
  for (Backend* backend : {&cpu(), &ref()}) {
    INFO(describe(backend->name()));
    CHECK_THROWS_WITH_AS(primitives::gather_rows(*backend, table.view(), index.view(), out.view()),
                         doctest::Contains("index 4 at row 1 is out of range for a table of 4 rows"),
                         tg::Error);
    CHECK_THROWS_WITH_AS(primitives::scatter_add_rows(*backend, out.view(), index.view(), table.view()),
                         doctest::Contains("index 4 at row 1"), tg::Error);
    CHECK_THROWS_WITH_AS(kernels::nll(*backend, {logp.view(), target.view(), -100, 0, loss.view()}),
                         doctest::Contains("nll: target 3 at row 1 is out of range for 3 classes"),
                         tg::Error);
    CHECK_THROWS_WITH_AS(kernels::nll_backward(*backend, {target.view(), -100, 0, loss.view(), logp.view()}),
                         doctest::Contains("target 3 at row 1"), tg::Error);
    const Array ints = make_array(DType::i64, Shape{2});
    Array ints_out = make_array(DType::i64, Shape{2});
    CHECK_THROWS_WITH_AS(primitives::unary(*backend, UnaryOp::exp, ints.view(), ints_out.view(), 0),
                         doctest::Contains("int64"), tg::Error);
    CHECK_THROWS_AS(primitives::binary(*backend, BinaryOp::add, ints.view(), loss.view(), loss.view()), tg::Error);
    const Array a = make_array(DType::f32, Shape{1, 2, 3});
    Array c = make_array(DType::f32, Shape{1, 2, 2});
    CHECK_THROWS_AS(primitives::matmul(*backend, a.view(), a.view(), c.view(), 0), tg::Error);
    Array bad_max = make_array(DType::f32, Shape{1});
    CHECK_THROWS_AS(primitives::reduce(*backend, ReduceOp::max, make_array(DType::f32, Shape{0}).view(), 0,
                                    bad_max.view(), nullptr),
                    tg::Error);
  }
}

// A backend with a body for fill only; every other kernel runs cpu's body.
class FillOnlyBackend final : public Backend {
 public:
  std::string_view name() const override { return "fill-only"; }
};
int fill_only_fills = 0;
void fill_only_fill(Backend&, const primitives::FillArgs& args) {
  ++fill_only_fills;
  primitives::fill(cpu_backend(), args.out, args.value);
}
const RegisterKernel fill_only_registered(primitives::fill_table(), "fill-only", &fill_only_fill);

TEST_CASE("a backend with a body for fill only runs cpu's body for copy") {
  FillOnlyBackend backend;
  fill_only_fills = 0;
  Array a = make_array(DType::f32, Shape{3});
  primitives::fill(backend, a.view(), 4);
  CHECK(fill_only_fills == 1);
  Array b = make_array(DType::f64, Shape{3});
  primitives::copy(backend, a.view(), b.view());
  check_values(b, {4, 4, 4});
  CHECK(fill_only_fills == 1);
  // Its registrations say what it supports.
  for (const KernelListing& k : kernel_tables()) {
    CAPTURE(k.name);
    const bool has = std::find(k.backends.begin(), k.backends.end(), "fill-only") != k.backends.end();
    CHECK(has == (k.name == "fill"));
  }
}

}  // namespace

TEST_CASE("vectorisable float exp, tanh and sigmoid stay within a few ulp of libm") {
  double worst_exp = 0, worst_tanh = 0, worst_sigmoid = 0;
  for (float x = -90.f; x < 90.f; x += 0.00731f) {
    const double e = std::exp(double(x)), t = std::tanh(double(x)), s = 1 / (1 + std::exp(-double(x)));
    if (e > 1.2e-38 && e < 3e38) worst_exp = std::max(worst_exp, std::abs(tg::cpu::exp_f32(x) - e) / e);
    if (t != 0) worst_tanh = std::max(worst_tanh, std::abs(tg::cpu::tanh_f32(x) - t) / std::abs(t));
    if (s > 1.2e-38) worst_sigmoid = std::max(worst_sigmoid, std::abs(tg::cpu::sigmoid_f32(x) - s) / s);
  }
  CHECK(worst_exp < 3e-7);  // float's ulp is 6e-8 relative
  CHECK(worst_tanh < 3e-7);
  CHECK(worst_sigmoid < 3e-7);
  CHECK(std::isnan(tg::cpu::exp_f32(NAN)));
  CHECK(std::isnan(tg::cpu::tanh_f32(NAN)));
  CHECK(tg::cpu::exp_f32(100.f) == INFINITY);
  CHECK(tg::cpu::exp_f32(-200.f) == 0.f);
  CHECK(tg::cpu::exp_f32(0.f) == 1.f);
  CHECK(tg::cpu::tanh_f32(-INFINITY) == -1.f);
  CHECK(tg::cpu::tanh_f32(1e-8f) == 1e-8f);
  CHECK(tg::cpu::sigmoid_f32(-200.f) == 0.f);
  CHECK(tg::cpu::sigmoid_f32(200.f) == 1.f);
}

TEST_CASE("softmax's exp of non-positive arguments gives exp_f32's bits") {
  int differing = 0;
  for (float x = 0.f; x > -110.f; x -= 0.000917f)
    differing += std::bit_cast<uint32_t>(tg::cpu::exp_nonpositive_f32(x)) != std::bit_cast<uint32_t>(tg::cpu::exp_f32(x));
  for (const float x : {-0.f, -1e-30f, -87.3365447504f, -104.f, -104.5f, -INFINITY})
    differing += std::bit_cast<uint32_t>(tg::cpu::exp_nonpositive_f32(x)) != std::bit_cast<uint32_t>(tg::cpu::exp_f32(x));
  CHECK(differing == 0);
  CHECK(std::isnan(tg::cpu::exp_nonpositive_f32(NAN)));
}

TEST_CASE("adam_update: cpu equals the reference bit for bit, with and without amsgrad and weight decay") {
  // Sizes below, at and past a vector width, and past the threaded threshold.
  std::mt19937_64 rng(11);
  for (const DType dtype : {DType::f32, DType::f64})
    for (const int64_t n : {int64_t{1}, int64_t{7}, int64_t{17}, int64_t{1000}, int64_t{100003}})
      for (const bool amsgrad : {false, true})
        for (const int decay : {0, 1, 2}) {  // none, L2 (Adam), decoupled (AdamW)
          CAPTURE(dtype_name(dtype)); CAPTURE(n); CAPTURE(amsgrad); CAPTURE(decay);
          AdamStep step;
          step.step_size = 1e-3 / (1 - std::pow(0.9, 3.0));
          step.sqrt_bias_correction2 = std::sqrt(1 - std::pow(0.999, 3.0));
          if (decay == 1) step.weight_decay = 0.1;
          if (decay == 2) step.param_scale = 1 - 1e-3 * 0.1;
          // Operands p, g, m, v (≥ 0), v̂ (≥ 0) as doubles, stored in dtype.
          std::normal_distribution<double> normal(0, 1);
          std::vector<std::vector<double>> values(5, std::vector<double>(n));
          for (int k = 0; k < 5; ++k)
            for (double& x : values[k]) x = k >= 3 ? std::abs(normal(rng)) * 1e-3 : normal(rng);
          auto run = [&](Backend* backend) {  // null: the operands as made
            std::vector<std::vector<uint64_t>> words(5, std::vector<uint64_t>(n));
            std::vector<View> views;
            for (int k = 0; k < 5; ++k) {
              for (int64_t i = 0; i < n; ++i) {
                if (dtype == DType::f32)
                  reinterpret_cast<float*>(words[k].data())[i] = static_cast<float>(values[k][i]);
                else
                  reinterpret_cast<double*>(words[k].data())[i] = values[k][i];
              }
              views.push_back(View{words[k].data(), dtype, Shape{n}, Strides{1}});
            }
            if (backend != nullptr)
              kernels::adam_update(*backend, {views[0], views[1], views[2], views[3], amsgrad ? views[4] : View{}, step});
            return words;
          };
          const auto fast = run(&cpu_backend());
          const auto slow = run(&reference_backend());
          const size_t bytes = n * dtype_size(dtype);
          for (int k : {0, 2, 3, 4}) {
            CAPTURE(k);
            CHECK(std::memcmp(fast[k].data(), slow[k].data(), bytes) == 0);
          }
          CHECK(std::memcmp(run(nullptr)[0].data(), fast[0].data(), bytes) != 0);  // the parameter moved
        }
}

// SplitMix64 (Steele, Lea and Flood 2014) as a sequential generator: the
// stream random_bits must reproduce by random access, written out here
// independently of core/dispatch/random_bits.h.
static std::vector<uint64_t> splitmix64_stream(uint64_t seed, int64_t n) {
  std::vector<uint64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    seed += 0x9E3779B97F4A7C15ull;
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    out.push_back(z ^ (z >> 31));
  }
  return out;
}

// backend.dropout_mask over n elements of dtype, read back as doubles.
static std::vector<double> dropout_values(Backend& backend, DType dtype, int64_t n, uint64_t key, double p) {
  // 8 bytes an element hold either dtype; all ones is NaN in both, so an element left unwritten never compares equal.
  std::vector<uint64_t> storage(n, ~uint64_t{0});
  kernels::dropout_mask(backend, {View{storage.data(), dtype, Shape{n}, Strides{1}}, key, p});
  if (dtype == DType::f64) {
    const double* values = reinterpret_cast<const double*>(storage.data());
    return std::vector<double>(values, values + n);
  }
  const float* values = reinterpret_cast<const float*>(storage.data());
  return std::vector<double>(values, values + n);
}

TEST_CASE("dropout_mask: SplitMix64 draws, the same on cpu and reference, about 1 - p kept") {
  // The published first output of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
  CHECK(splitmix64_stream(0, 1)[0] == 0xE220A8397B1DCDAFull);
  const int64_t n = 100003;  // past the threaded threshold, odd
  for (const DType dtype : {DType::f32, DType::f64})
    for (const double p : {0.0, 0.2, 0.5, 0.9})
      for (const uint64_t key : {uint64_t{0}, uint64_t{12345}, ~uint64_t{0}}) {
        CAPTURE(dtype_name(dtype)); CAPTURE(p); CAPTURE(key);
        const std::vector<double> cpu_out = dropout_values(cpu_backend(), dtype, n, key, p);
        const std::vector<double> ref_out = dropout_values(reference_backend(), dtype, n, key, p);
        CHECK(cpu_out == ref_out);
        const std::vector<uint64_t> stream = splitmix64_stream(key, n);
        const double scale = dtype == DType::f32 ? double(float(1 / (1 - p))) : 1 / (1 - p);
        int64_t kept = 0, wrong = 0;
        for (int64_t i = 0; i < n; ++i) {
          const bool keep = double(stream[i] >> 11) * 0x1.0p-53 < 1 - p;
          kept += keep;
          wrong += cpu_out[i] != (keep ? scale : 0.0);
        }
        CHECK(wrong == 0);
        // Binomial(n, 1 - p): 6 standard deviations.
        CHECK(std::abs(double(kept) - n * (1 - p)) <= 6 * std::sqrt(n * p * (1 - p)) + 1e-9);
      }
  std::vector<float> out(4);
  const View v{out.data(), DType::f32, Shape{4}, Strides{1}};
  CHECK_THROWS_WITH_AS(kernels::dropout_mask(cpu_backend(), {v, 1, 1.0}), "dropout_mask: p must be in [0, 1), got 1", Error);
  const View strided{out.data(), DType::f32, Shape{2}, Strides{2}};
  CHECK_THROWS_AS(kernels::dropout_mask(reference_backend(), {strided, 1, 0.5}), Error);
}

// Σ x² of n values drawn in [-3, 3), on `backend`, with `threads` in the pool.
static double sum_squares_of(Backend& backend, DType dtype, int64_t n, int threads) {
  set_num_threads(threads);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(-3, 3);
  std::vector<double> wide(static_cast<size_t>(n));
  for (double& v : wide) v = value(rng);
  std::vector<float> narrow(wide.begin(), wide.end());
  double out = -1;
  const View x = dtype == DType::f32 ? View{narrow.data(), dtype, Shape{n}, Strides{1}}
                                     : View{wide.data(), dtype, Shape{n}, Strides{1}};
  kernels::sum_squares(backend, {x, View{&out, DType::f64, Shape{}, Strides{}}});
  return out;
}

TEST_CASE("sum_squares: in double, the cpu body within 1e-12 of the reference's sum, the same bits on 1 and 2 threads") {
  // Sizes around the cpu body's 16384-element blocks and past the threaded path's threshold.
  for (const DType dtype : {DType::f32, DType::f64})
    for (const int64_t n : {0, 1, 17, 16384, 16385, 100003, 1000003}) {
      CAPTURE(dtype_name(dtype)); CAPTURE(n);
      const double reference = sum_squares_of(reference_backend(), dtype, n, 1);
      const double one = sum_squares_of(cpu_backend(), dtype, n, 1), two = sum_squares_of(cpu_backend(), dtype, n, 2);
      CHECK(one == two);
      CHECK(std::abs(two - reference) <= 1e-12 * reference);  // both in double, in other orders
      if (n >= 16384) CHECK(std::abs(reference / double(n) - 3) < 0.1);  // E x² = 3 for x uniform in [-3, 3)
    }
  use_two_threads();
  // Squares and sum in double: 1e20² = 1e40 is past float32's range.
  std::vector<float> values = {3, 4, 1e20f};
  double out = 0;
  const View out_view{&out, DType::f64, Shape{}, Strides{}};
  kernels::sum_squares(cpu_backend(), {View{values.data(), DType::f32, Shape{2}, Strides{1}}, out_view});
  CHECK(out == 25);
  kernels::sum_squares(cpu_backend(), {View{values.data() + 2, DType::f32, Shape{1}, Strides{1}}, out_view});
  CHECK(out == double(1e20f) * double(1e20f));
  const View strided{values.data(), DType::f32, Shape{2}, Strides{2}};
  CHECK_THROWS_WITH_AS(kernels::sum_squares(cpu_backend(), {strided, out_view}), doctest::Contains("sum_squares"), Error);
  CHECK_THROWS_WITH_AS(kernels::sum_squares(cpu_backend(), {View{values.data(), DType::f32, Shape{2}, Strides{1}},
                                                    View{&out, DType::f64, Shape{2}, Strides{1}}}),
                       "sum_squares: out must hold one element, got shape (2,)", Error);
}

TEST_CASE("adam_update: argument errors name the operand") {
  std::vector<float> a(6), b(6);
  std::vector<double> d(6);
  const View p{a.data(), DType::f32, Shape{2, 3}, Strides{3, 1}};
  const View g{b.data(), DType::f32, Shape{2, 3}, Strides{3, 1}};
  const View wide{b.data(), DType::f32, Shape{3, 2}, Strides{2, 1}};
  const View f64{d.data(), DType::f64, Shape{2, 3}, Strides{3, 1}};
  const View transposed{b.data(), DType::f32, Shape{2, 3}, Strides{1, 2}};
  const AdamStep step;
  for (Backend* backend : {&cpu_backend(), &reference_backend()}) {
    CHECK_THROWS_WITH_AS(kernels::adam_update(*backend, {p, wide, g, g, View{}, step}),
                         "adam_update: grad has shape (3, 2), expected (2, 3)", Error);
    CHECK_THROWS_WITH_AS(kernels::adam_update(*backend, {p, g, f64, g, View{}, step}),
                         "adam_update: exp_avg must be float32, got float64", Error);
    CHECK_THROWS_WITH_AS(kernels::adam_update(*backend, {p, g, g, transposed, View{}, step}),
                         doctest::Contains("adam_update: exp_avg_sq must be contiguous"), Error);
    CHECK_THROWS_WITH_AS(kernels::adam_update(*backend, {p, g, g, g, wide, step}),
                         "adam_update: max_exp_avg_sq has shape (3, 2), expected (2, 3)", Error);
  }
}

// ---------------------------------------------------------------------------
// the kernel table (core/dispatch/kernel_table.h): a toy family registered here

namespace {
// out[i] = 2 x[i]; each body also says who ran it.
struct ToyArgs {
  View x, out;
};
const char* toy_ran = "";
void toy_check(const ToyArgs& a) {
  if (!(a.x.shape == a.out.shape)) fail("toy_double: out {} for x {}", a.out.shape.str(), a.x.shape.str());
}
void toy_reference(Backend&, const ToyArgs& a) {
  toy_ran = "reference";
  for (int64_t i = 0; i < a.x.numel(); ++i) element<double>(a.out, i) = 2 * element<double>(a.x, i);
}
void toy_cpu(Backend&, const ToyArgs& a) {
  toy_ran = "cpu";
  for (int64_t i = 0; i < a.x.numel(); ++i) element<double>(a.out, i) = 2 * element<double>(a.x, i);
}
KernelTable<ToyArgs>& toy_table() {
  static KernelTable<ToyArgs> table("toy_double", &toy_check, &toy_reference);
  return table;
}
const RegisterKernel toy_on_cpu(toy_table(), "cpu", &toy_cpu);

class DeviceOnlyBackend final : public Backend {  // device memory, no body of its own
 public:
  DeviceOnlyBackend() : Backend(Memory::device) {}
  std::string_view name() const override { return "toydevice:0"; }
};
}  // namespace

TEST_CASE("kernel table: a family registered in a test file runs its cpu body on cpu, the reference on reference") {
  const Array x = array_of(DType::f64, Shape{3}, {1, 2, 3});
  for (Backend* backend : {&cpu_backend(), &reference_backend()}) {
    Array out = make_array(DType::f64, Shape{3});
    toy_table().run(*backend, {x.view(), out.view()});
    check_values(out, {2, 4, 6});
    CHECK(std::string(toy_ran) == (backend == &cpu_backend() ? "cpu" : "reference"));
  }
  // A host backend of one's own with no body: the default host backend's (cpu's), on host memory.
  FillOnlyBackend own;
  Array out = make_array(DType::f64, Shape{3});
  toy_ran = "";
  toy_table().run(own, {x.view(), out.view()});
  CHECK(std::string(toy_ran) == "cpu");
  check_values(out, {2, 4, 6});
  // The check runs once, before any body.
  Array wrong = make_array(DType::f64, Shape{2});
  toy_ran = "";
  CHECK_THROWS_WITH_AS(toy_table().run(cpu_backend(), {x.view(), wrong.view()}), "toy_double: out (2,) for x (3,)", Error);
  CHECK(std::string(toy_ran).empty());
  // A device backend without a body fails, naming the kernel and who has one.
  DeviceOnlyBackend device;
  CHECK_THROWS_WITH_AS(toy_table().run(device, {x.view(), out.view()}),
                       "kernel toy_double: not implemented on backend toydevice:0 (bodies: reference, cpu)", Error);
  CHECK_THROWS_WITH_AS(toy_table().add("cpu", &toy_cpu), "kernel toy_double: a body for backend cpu is registered twice",
                       Error);
  // The listing holds it and the library's families, each with its cpu body.
  std::map<std::string, std::vector<std::string>> listed;
  for (const KernelListing& k : kernel_tables()) listed[k.name] = k.backends;
  CHECK(listed["toy_double"] == std::vector<std::string>{"reference", "cpu"});
  for (const char* name : {"nll", "nll_backward", "gru_gates", "gru_gates_backward", "additive_score",
                           "additive_score_backward", "ctc_loss", "topk_rows", "adam_update", "dropout_mask", "layer_norm",
                           "layer_norm_backward", "dot_attention", "dot_attention_backward", "im2col", "col2im",
                           "pool2d", "pool2d_backward", "batch_norm", "batch_norm_backward", "sum_squares",
                           // the primitives, tables like the families'
                           "fill", "copy", "unary", "unary_backward", "binary", "where", "reduce", "matmul", "gather_rows",
                           "scatter_add_rows", "softmax", "softmax_backward"}) {
    CAPTURE(name);
    REQUIRE(listed.count(name) == 1);
    CHECK(std::find(listed[name].begin(), listed[name].end(), "cpu") != listed[name].end());
  }
  CHECK(backend_kind("cuda:1") == "cuda");
  CHECK(backend_kind("cpu") == "cpu");
}

TEST_CASE("float32 products: where OpenBLAS runs a narrow core (its Prescott fallback), the own kernel if it can run") {
  // OpenBLAS picks its core as it loads, so each setting runs this case again in a child of its own.
  if (const char* want = std::getenv("TG_EXPECT_OWN_SGEMM")) {
    if (std::string(want) == "wide")  // OpenBLAS's AVX-512 core: OpenBLAS by the rule, unless this processor's
                                      // measured row (sgemm_choice.cpp) says otherwise
      CHECK((!tg::cpu::use_own_sgemm() || tg::cpu::sgemm_choice().source.rfind("measured:", 0) == 0));
    else
      CHECK(tg::cpu::use_own_sgemm() == (std::string(want) == "1"));
    return;
  }
  const std::string self = "/proc/" + std::to_string(getpid()) + "/exe";
  auto child = [&](const std::string& settings, const std::string& expected) {
    // Only the settings given: none inherited from this run's environment (a soak sets TG_SGEMM).
    const std::string command = "env -u TG_SGEMM -u OPENBLAS_CORETYPE " + settings + " TG_EXPECT_OWN_SGEMM=" +
                                expected + " " + self +
                                " --test-case='float32 products: where OpenBLAS*' >/dev/null 2>&1";
    return std::system(command.c_str());
  };
  // Whether this machine and build can run the own kernel at all: TG_SGEMM=own says.
  const bool own_runs = child("TG_SGEMM=own", "1") == 0;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  // GCC builds, native or portable, have the kernel; it runs wherever the processor has AVX-512.
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  CHECK(own_runs == avx512);
#endif
  CHECK(child("OPENBLAS_CORETYPE=Prescott", own_runs ? "1" : "0") == 0);
  CHECK(child("OPENBLAS_CORETYPE=Prescott TG_SGEMM=openblas", "0") == 0);
  if (own_runs) CHECK(child("OPENBLAS_CORETYPE=SkylakeX", "wide") == 0);  // OpenBLAS's AVX-512 core
}
