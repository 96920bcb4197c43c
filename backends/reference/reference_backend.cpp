#include "backends/reference/reference_backend.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <vector>

#include "core/backend_registry.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/kernel_checks.h"
#include "core/matmul_precision.h"

namespace tg {

namespace {

using Index = std::vector<int64_t>;

// Calls fn(index) for every multi-index of `shape`, last dimension fastest;
// a scalar (rank 0) has exactly one, the empty index.
template <typename Fn>
void for_each_index(const Shape& shape, Fn fn) {
  if (shape.numel() == 0) return;
  Index index(shape.size(), 0);
  for (;;) {
    fn(index);
    int d = shape.size() - 1;
    while (d >= 0 && ++index[d] == shape[d]) index[d--] = 0;
    if (d < 0) return;
  }
}

// The element of v at a multi-index: data[Σ_d index[d] * strides[d]].
template <typename T>
T& at(const View& v, const Index& index) {
  int64_t offset = 0;
  for (int d = 0; d < v.shape.size(); ++d) offset += index[d] * v.strides[d];
  return v.as<T>()[offset];
}

// Element i of a 1-D view, through its stride.
template <typename T>
T& at(const View& v, int64_t i) {
  return v.as<T>()[i * v.strides[0]];
}

void expect(bool ok, std::string_view op, std::string_view what) {
  if (!ok) fail("{}: {}", op, what);
}

void expect_like(std::string_view op, const View& v, const View& like, DType dtype) {
  if (!(v.shape == like.shape) || v.dtype != dtype)
    fail("{}: got a {} {} operand where {} {} was expected", op, dtype_name(v.dtype),
         v.shape.str(), dtype_name(dtype), like.shape.str());
}

// y = f(x) for a unary op with scalar s.
template <typename T>
T unary_value(UnaryOp op, T x, T s) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::sigmoid: return T(1) / (T(1) + std::exp(-x));
    case UnaryOp::relu: return x < T(0) ? T(0) : x;  // NaN stays NaN
    case UnaryOp::abs: return std::abs(x);
    case UnaryOp::erf: return std::erf(x);
    case UnaryOp::pow_scalar: return std::pow(x, s);
    case UnaryOp::mul_scalar: return x * s;
    case UnaryOp::add_scalar: return x + s;
    case UnaryOp::sin: return std::sin(x);
    case UnaryOp::cos: return std::cos(x);
  }
  fail("unary: unknown op {}", static_cast<int>(op));
}

// f'(x), given x and y = f(x).
template <typename T>
T unary_derivative(UnaryOp op, T x, T y, T s) {
  switch (op) {
    case UnaryOp::neg: return T(-1);
    case UnaryOp::exp: return y;                      // (e^x)' = e^x
    case UnaryOp::log: return T(1) / x;               // (ln x)' = 1/x
    case UnaryOp::sqrt: return T(0.5) / y;            // (√x)' = 1 / (2√x)
    case UnaryOp::tanh: return T(1) - y * y;          // (tanh x)' = 1 - tanh² x
    case UnaryOp::sigmoid: return y * (T(1) - y);     // σ' = σ (1 - σ)
    case UnaryOp::relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::abs: return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0);
    case UnaryOp::erf: return T(2) / std::sqrt(std::numbers::pi_v<T>) * std::exp(-x * x);  // erf' = 2/√π e^(-x²)
    case UnaryOp::pow_scalar: return s * std::pow(x, s - T(1));
    case UnaryOp::mul_scalar: return s;
    case UnaryOp::add_scalar: return T(1);
    case UnaryOp::sin: return std::cos(x);   // (sin x)' = cos x
    case UnaryOp::cos: return -std::sin(x);  // (cos x)' = -sin x
  }
  fail("unary_backward: unknown op {}", static_cast<int>(op));
}

// a (op) b for the arithmetic ops; maximum/minimum propagate NaN.
template <typename T>
T binary_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::maximum: return std::isnan(a) || std::isnan(b) ? NAN : a > b ? a : b;
    case BinaryOp::minimum: return std::isnan(a) || std::isnan(b) ? NAN : a < b ? a : b;
    default: fail("binary: {} is not arithmetic", binary_op_name(op));
  }
}

template <typename T>
bool compare(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::eq: return a == b;
    case BinaryOp::ne: return a != b;
    case BinaryOp::lt: return a < b;
    case BinaryOp::le: return a <= b;
    case BinaryOp::gt: return a > b;
    case BinaryOp::ge: return a >= b;
    default: fail("binary: {} is not a comparison", binary_op_name(op));
  }
}

}  // namespace

// out[i] = value
void ReferenceBackend::fill(const View& out, double value) {
  visit_any(out.dtype, [&]<typename T>() {
    for_each_index(out.shape, [&](const Index& i) { at<T>(out, i) = convert_element<T>(value); });
  });
}

// out[i] = src[i], converted to out's dtype
void ReferenceBackend::copy(const View& src, const View& out) {
  expect(src.shape == out.shape, "copy", "src and out shapes differ");
  visit_any(src.dtype, [&]<typename S>() {
    visit_any(out.dtype, [&]<typename D>() {
      for_each_index(out.shape, [&](const Index& i) { at<D>(out, i) = convert_element<D>(at<S>(src, i)); });
    });
  });
}

// out[i] = f(x[i], s)
void ReferenceBackend::unary(UnaryOp op, const View& x, const View& out, double scalar) {
  expect_like("unary", out, x, x.dtype);
  visit_float(x.dtype, "unary", [&]<typename T>() {
    for_each_index(x.shape, [&](const Index& i) {
      at<T>(out, i) = unary_value(op, at<T>(x, i), T(scalar));
    });
  });
}

// dx[i] += dy[i] * f'(x[i])
void ReferenceBackend::unary_backward(UnaryOp op, const View& x, const View& y, const View& dy,
                                      const View& dx, double scalar) {
  for (const View* v : {&y, &dy, &dx}) expect_like("unary_backward", *v, x, x.dtype);
  visit_float(x.dtype, "unary_backward", [&]<typename T>() {
    for_each_index(x.shape, [&](const Index& i) {
      at<T>(dx, i) += at<T>(dy, i) * unary_derivative(op, at<T>(x, i), at<T>(y, i), T(scalar));
    });
  });
}

// out[i] = a[i] (op) b[i]
void ReferenceBackend::binary(BinaryOp op, const View& a, const View& b, const View& out) {
  expect_like("binary", a, out, b.dtype);
  expect_like("binary", b, out, a.dtype);
  expect_like("binary", out, a, is_comparison(op) ? DType::boolean : a.dtype);
  visit_float(a.dtype, "binary", [&]<typename T>() {
    for_each_index(out.shape, [&](const Index& i) {
      if (is_comparison(op))
        at<bool>(out, i) = compare(op, at<T>(a, i), at<T>(b, i));
      else
        at<T>(out, i) = binary_value(op, at<T>(a, i), at<T>(b, i));
    });
  });
}

// out[i] = cond[i] ? a[i] : b[i]
void ReferenceBackend::where(const View& cond, const View& a, const View& b, const View& out) {
  expect_like("where", cond, out, DType::boolean);
  expect_like("where", a, out, out.dtype);
  expect_like("where", b, out, out.dtype);
  visit_any(out.dtype, [&]<typename T>() {
    for_each_index(out.shape, [&](const Index& i) {
      at<T>(out, i) = at<bool>(cond, i) ? at<T>(a, i) : at<T>(b, i);
    });
  });
}

// sum: out[.., 0, ..] = Σ_k x[.., k, ..]        (accumulated in double)
// max: out[.., 0, ..] = max_k x[.., k, ..], argmax = the first such k; NaN wins
void ReferenceBackend::reduce(ReduceOp op, const View& x, int axis, const View& out,
                              const View* argmax) {
  axis = normalize_axis(axis, x.shape.size(), "reduce");
  Shape kept = x.shape;
  kept[axis] = 1;
  expect(out.shape == kept && out.dtype == x.dtype, "reduce", "out must be x's shape with size 1 on the axis");
  if (argmax != nullptr)
    expect(argmax->shape == kept && argmax->dtype == DType::i64, "reduce", "argmax must be int64 of out's shape");
  const int64_t n = x.shape[axis];
  if (op == ReduceOp::max && n == 0) fail("reduce: max over axis {} of size 0 has no value", axis);
  visit_float(x.dtype, "reduce", [&]<typename T>() {
    for_each_index(kept, [&](const Index& o) {
      Index i = o;
      if (op == ReduceOp::sum) {
        double sum = 0;
        for (i[axis] = 0; i[axis] < n; ++i[axis]) sum += at<T>(x, i);
        at<T>(out, o) = T(sum);
        return;
      }
      T best = at<T>(x, i);
      int64_t best_k = 0;
      for (i[axis] = 1; i[axis] < n; ++i[axis]) {
        const T v = at<T>(x, i);
        if (v > best || (std::isnan(v) && !std::isnan(best))) best = v, best_k = i[axis];
      }
      at<T>(out, o) = best;
      if (argmax != nullptr) at<int64_t>(*argmax, o) = best_k;
    });
  });
}

// c[b, m, n] = Σ_k r(a[b, m, k]) * r(b[b, k, n]) + beta * c[b, m, n]   (accumulated in double)
// r rounds float32 inputs to the matmul precision (core/matmul_precision.h).
void ReferenceBackend::matmul(const View& a, const View& b, const View& c, double beta) {
  checks::matmul_args(a, b, c, beta);
  const int64_t inner = a.shape[2];
  const MatmulPrecision precision = matmul_precision();
  auto product = [&]<typename T, typename C>() {
    auto input = [&](T v) -> double {
      if constexpr (std::is_same_v<T, float>) return round_to_precision(v, precision);
      return convert_element<double>(v);
    };
    for_each_index(c.shape, [&](const Index& i) {
      double sum = 0;
      for (int64_t k = 0; k < inner; ++k)
        sum += input(at<T>(a, Index{i[0], i[1], k})) * input(at<T>(b, Index{i[0], k, i[2]}));
      C& out = at<C>(c, i);
      out = convert_element<C>(beta == 0 ? sum : sum + beta * convert_element<double>(out));
    });
  };
  if (is_half(a.dtype))  // 16-bit inputs, c of their dtype or float32
    visit_any(a.dtype, [&]<typename T>() {
      if constexpr (is_half_type<T>) {
        if (c.dtype == DType::f32) product.template operator()<T, float>();
        else product.template operator()<T, T>();
      }
    });
  else
    visit_float(a.dtype, "matmul", [&]<typename T>() { product.template operator()<T, T>(); });
}

// out[i, :] = table[index[i], :]
void ReferenceBackend::gather_rows(const View& table, const View& index, const View& out) {
  expect(table.shape.size() == 2 && index.shape.size() == 1 && index.dtype == DType::i64,
         "gather_rows", "expected table (V, D) and int64 index (N)");
  expect(out.shape == Shape{index.shape[0], table.shape[1]} && out.dtype == table.dtype,
         "gather_rows", "out must be (N, D) of table's dtype");
  checks::indices_in_range("gather_rows", index, table.shape[0]);
  visit_any(table.dtype, [&]<typename T>() {
    for_each_index(out.shape, [&](const Index& i) {
      at<T>(out, i) = at<T>(table, Index{at<int64_t>(index, i[0]), i[1]});
    });
  });
}

// table[index[i], :] += src[i, :]
void ReferenceBackend::scatter_add_rows(const View& src, const View& index, const View& table) {
  expect(table.shape.size() == 2 && index.shape.size() == 1 && index.dtype == DType::i64,
         "scatter_add_rows", "expected table (V, D) and int64 index (N)");
  expect(src.shape == Shape{index.shape[0], table.shape[1]} && src.dtype == table.dtype,
         "scatter_add_rows", "src must be (N, D) of table's dtype");
  checks::indices_in_range("scatter_add_rows", index, table.shape[0]);
  visit_float(table.dtype, "scatter_add_rows", [&]<typename T>() {
    for_each_index(src.shape, [&](const Index& i) {
      at<T>(table, Index{at<int64_t>(index, i[0]), i[1]}) += at<T>(src, i);
    });
  });
}

// Per row r of (R, C):  softmax  y = e^(x - max) / Σ e^(x - max)
//                       log      y = x - max - ln Σ e^(x - max)
void ReferenceBackend::softmax(const View& x, const View& out, bool log) {
  expect(!x.shape.empty() && x.is_contiguous() && out.is_contiguous(), "softmax",
         "x and out must be contiguous with at least one dimension");
  expect_like("softmax", out, x, x.dtype);
  const int64_t cols = x.shape.back(), rows = cols == 0 ? 0 : x.numel() / cols;
  visit_float(x.dtype, "softmax", [&]<typename T>() {
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x.as<const T>() + r * cols;
      T* yr = out.as<T>() + r * cols;
      T max = xr[0];
      for (int64_t c = 1; c < cols; ++c) max = xr[c] > max ? xr[c] : max;
      double sum = 0;
      for (int64_t c = 0; c < cols; ++c) sum += std::exp(xr[c] - max);
      for (int64_t c = 0; c < cols; ++c)
        yr[c] = log ? T(xr[c] - max - T(std::log(sum))) : T(std::exp(xr[c] - max) / sum);
    }
  });
}

// softmax:  dx += y * (dy - Σ dy*y)
// log:      dx += dy - e^y * Σ dy
void ReferenceBackend::softmax_backward(const View& y, const View& dy, const View& dx, bool log) {
  expect(!y.shape.empty() && y.is_contiguous() && dy.is_contiguous() && dx.is_contiguous(),
         "softmax_backward", "y, dy and dx must be contiguous with at least one dimension");
  expect_like("softmax_backward", dy, y, y.dtype);
  expect_like("softmax_backward", dx, y, y.dtype);
  const int64_t cols = y.shape.back(), rows = cols == 0 ? 0 : y.numel() / cols;
  visit_float(y.dtype, "softmax_backward", [&]<typename T>() {
    for (int64_t r = 0; r < rows; ++r) {
      const T* yr = y.as<const T>() + r * cols;
      const T* dyr = dy.as<const T>() + r * cols;
      T* dxr = dx.as<T>() + r * cols;
      double sum = 0;
      for (int64_t c = 0; c < cols; ++c) sum += log ? double(dyr[c]) : double(dyr[c]) * yr[c];
      for (int64_t c = 0; c < cols; ++c)
        dxr[c] += log ? T(dyr[c] - std::exp(yr[c]) * T(sum)) : T(yr[c] * (dyr[c] - T(sum)));
    }
  });
}

Backend& reference_backend() {
  static ReferenceBackend backend;
  return backend;
}

namespace {
const RegisterHostBackend registered("reference", 0, &reference_backend);
}  // namespace

}  // namespace tg
