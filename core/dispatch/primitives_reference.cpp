// The reference bodies of the primitives (core/dispatch/primitives.h): every kernel
// written as its definition, in plain loops over multi-indices; no threads,
// no BLAS, no tricks. Slow on purpose: the `reference` backend runs them,
// tests hold the cpu and CUDA bodies against them, and a new backend can be
// checked against them the same way. Arguments are checked before a body runs.
#include "core/dispatch/primitives_reference.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <vector>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/matmul_precision.h"

namespace tg::primitives {

namespace {

// A multi-index, held inline like a Shape: the loops below build one per element (two per multiply-add
// in matmul), and a heap allocation each would cost more than the arithmetic.
using Index = Shape;

// Calls fn(index) for every multi-index of `shape`, last dimension fastest;
// a scalar (rank 0) has exactly one, the empty index.
template <typename Fn>
void for_each_index(const Shape& shape, Fn fn) {
  if (shape.numel() == 0) return;
  Index index = shape;
  std::fill(index.begin(), index.end(), 0);
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
void fill_reference(Backend&, const FillArgs& args) {
  const View& out = args.out;
  const double value = args.value;
  visit_any(out.dtype, [&]<typename T>() {
    for_each_index(out.shape, [&](const Index& i) { at<T>(out, i) = convert_element<T>(value); });
  });
}

// out[i] = src[i], converted to out's dtype
void copy_reference(Backend&, const CopyArgs& args) {
  const View &src = args.src, &out = args.out;
  visit_any(src.dtype, [&]<typename S>() {
    visit_any(out.dtype, [&]<typename D>() {
      for_each_index(out.shape, [&](const Index& i) { at<D>(out, i) = convert_element<D>(at<S>(src, i)); });
    });
  });
}

// out[i] = f(x[i], s)
void unary_reference(Backend&, const UnaryArgs& args) {
  const View &x = args.x, &out = args.out;
  const UnaryOp op = args.op;
  const double scalar = args.scalar;
  visit_float(x.dtype, "unary", [&]<typename T>() {
    for_each_index(x.shape, [&](const Index& i) {
      at<T>(out, i) = unary_value(op, at<T>(x, i), T(scalar));
    });
  });
}

// dx[i] += dy[i] * f'(x[i])
void unary_backward_reference(Backend&, const UnaryBackwardArgs& args) {
  const View &x = args.x, &y = args.y, &dy = args.dy, &dx = args.dx;
  const UnaryOp op = args.op;
  const double scalar = args.scalar;
  visit_float(x.dtype, "unary_backward", [&]<typename T>() {
    for_each_index(x.shape, [&](const Index& i) {
      at<T>(dx, i) += at<T>(dy, i) * unary_derivative(op, at<T>(x, i), at<T>(y, i), T(scalar));
    });
  });
}

// out[i] = a[i] (op) b[i]
void binary_reference(Backend&, const BinaryArgs& args) {
  const View &a = args.a, &b = args.b, &out = args.out;
  const BinaryOp op = args.op;
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
void where_reference(Backend&, const WhereArgs& args) {
  const View &cond = args.cond, &a = args.a, &b = args.b, &out = args.out;
  visit_any(out.dtype, [&]<typename T>() {
    for_each_index(out.shape, [&](const Index& i) {
      at<T>(out, i) = at<bool>(cond, i) ? at<T>(a, i) : at<T>(b, i);
    });
  });
}

// sum: out[.., 0, ..] = Σ_k x[.., k, ..]        (accumulated in double)
// max: out[.., 0, ..] = max_k x[.., k, ..], argmax = the first such k; NaN wins
void reduce_reference(Backend&, const ReduceArgs& args) {
  const View &x = args.x, &out = args.out;
  const View* argmax = args.argmax;
  const ReduceOp op = args.op;
  const int axis = reduce_axis(args);
  Shape kept = x.shape;
  kept[axis] = 1;
  const int64_t n = x.shape[axis];
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
// r rounds float32 inputs to the matmul precision (core/dispatch/matmul_precision.h).
void matmul_reference(Backend&, const MatmulArgs& args) {
  const View &a = args.a, &b = args.b, &c = args.c;
  const double beta = args.beta;
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
void gather_rows_reference(Backend&, const GatherRowsArgs& args) {
  const View &table = args.table, &index = args.index, &out = args.out;
  visit_any(table.dtype, [&]<typename T>() {
    for_each_index(out.shape, [&](const Index& i) {
      at<T>(out, i) = at<T>(table, Index{at<int64_t>(index, i[0]), i[1]});
    });
  });
}

// table[index[i], :] += src[i, :]
void scatter_add_rows_reference(Backend&, const ScatterAddRowsArgs& args) {
  const View &src = args.src, &index = args.index, &table = args.table;
  visit_float(table.dtype, "scatter_add_rows", [&]<typename T>() {
    for_each_index(src.shape, [&](const Index& i) {
      at<T>(table, Index{at<int64_t>(index, i[0]), i[1]}) += at<T>(src, i);
    });
  });
}

// Per row r of (R, C):  softmax  y = e^(x - max) / Σ e^(x - max)
//                       log      y = x - max - ln Σ e^(x - max)
void softmax_reference(Backend&, const SoftmaxArgs& args) {
  const View &x = args.x, &out = args.out;
  const bool log = args.log;
  const auto [rows, cols] = as_rows(x);
  visit_float(x.dtype, "softmax", [&, rows = rows, cols = cols]<typename T>() {
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
void softmax_backward_reference(Backend&, const SoftmaxBackwardArgs& args) {
  const View &y = args.y, &dy = args.dy, &dx = args.dx;
  const bool log = args.log;
  const auto [rows, cols] = as_rows(y);
  visit_float(y.dtype, "softmax_backward", [&, rows = rows, cols = cols]<typename T>() {
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

}  // namespace tg::primitives
