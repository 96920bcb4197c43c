#include "backends/reference/reference_backend.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>
#include <vector>

#include "core/adam_update.h"
#include "core/backend_registry.h"
#include "core/ctc_recursion.h"
#include "core/dispatch.h"
#include "core/error.h"
#include "core/kernel_checks.h"
#include "core/matmul_precision.h"
#include "core/random_bits.h"
#include "core/topk_order.h"

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

// loss_i = -(1-ε) logp[i, t_i] - ε/C Σ_c logp[i, c]; 0 where t_i = ignore_index.
// The ε term is skipped at ε = 0, so a -inf log-probability elsewhere is harmless.
void ReferenceBackend::nll(const View& logp, const View& target, int64_t ignore_index,
                           double smoothing, const View& loss) {
  expect(logp.shape.size() == 2 && logp.is_contiguous(), "nll", "logp must be contiguous (N, C)");
  const int64_t rows = logp.shape[0], classes = logp.shape[1];
  expect(target.shape == Shape{rows} && target.dtype == DType::i64, "nll", "target must be int64 (N)");
  expect(loss.shape == Shape{rows} && loss.dtype == logp.dtype, "nll", "loss must be (N) of logp's dtype");
  checks::targets_in_range("nll", target, ignore_index, classes);
  visit_float(logp.dtype, "nll", [&]<typename T>() {
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t t = at<int64_t>(target, i);
      double l = 0;
      if (t != ignore_index) {
        l = -(1 - smoothing) * at<T>(logp, Index{i, t});
        if (smoothing != 0)
          for (int64_t c = 0; c < classes; ++c) l -= smoothing / classes * at<T>(logp, Index{i, c});
      }
      at<T>(loss, i) = T(l);
    }
  });
}

// dlogp[i, c] += dloss_i * -((1-ε) [c = t_i] + ε/C); nothing for ignored rows.
void ReferenceBackend::nll_backward(const View& target, int64_t ignore_index, double smoothing,
                                    const View& dloss, const View& dlogp) {
  expect(dlogp.shape.size() == 2 && dlogp.is_contiguous(), "nll_backward",
         "dlogp must be contiguous (N, C)");
  const int64_t rows = dlogp.shape[0], classes = dlogp.shape[1];
  expect(target.shape == Shape{rows} && target.dtype == DType::i64, "nll_backward",
         "target must be int64 (N)");
  expect(dloss.shape == Shape{rows} && dloss.dtype == dlogp.dtype, "nll_backward",
         "dloss must be (N) of dlogp's dtype");
  checks::targets_in_range("nll_backward", target, ignore_index, classes);
  visit_float(dlogp.dtype, "nll_backward", [&]<typename T>() {
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t t = at<int64_t>(target, i);
      if (t == ignore_index) continue;
      for (int64_t c = 0; c < classes; ++c) {
        const double weight = (c == t ? 1 - smoothing : 0) + smoothing / classes;
        at<T>(dlogp, Index{i, c}) += T(-at<T>(dloss, i) * weight);
      }
    }
  });
}

// The GRU gates, one (b, j) at a time, straight from the formulas in
// core/backend.h. Gates r | z | n are columns j, H + j, 2H + j.
void ReferenceBackend::gru_gates(const View& gi, const View& gh, const View& h, const View& out,
                                 const View& saved) {
  const auto [batch, hidden] = checks::gru_gates_args(gi, gh, h, out, saved);
  // Init-captures: clang 14 (the fuzz build) cannot capture structured bindings.
  visit_float(h.dtype, "gru_gates", [&, batch = batch, hidden = hidden]<typename T>() {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < hidden; ++j) {
        const Index r_at{b, j}, z_at{b, hidden + j}, n_at{b, 2 * hidden + j}, h_at{b, j};
        const T r = T(1) / (T(1) + std::exp(-(at<T>(gi, r_at) + at<T>(gh, r_at))));
        const T z = T(1) / (T(1) + std::exp(-(at<T>(gi, z_at) + at<T>(gh, z_at))));
        const T n = std::tanh(at<T>(gi, n_at) + r * at<T>(gh, n_at));
        at<T>(out, h_at) = n + z * (at<T>(h, h_at) - n);
        at<T>(saved, r_at) = r, at<T>(saved, z_at) = z, at<T>(saved, n_at) = n;
      }
  });
}

void ReferenceBackend::gru_gates_backward(const View& saved, const View& gh, const View& h, const View& dout,
                                          const View& dgi, const View& dgh, const View& dh) {
  const auto [batch, hidden] = checks::gru_gates_backward_args(saved, gh, h, dout, dgi, dgh, dh);
  visit_float(h.dtype, "gru_gates_backward", [&, batch = batch, hidden = hidden]<typename T>() {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t j = 0; j < hidden; ++j) {
        const Index r_at{b, j}, z_at{b, hidden + j}, n_at{b, 2 * hidden + j}, h_at{b, j};
        const T r = at<T>(saved, r_at), z = at<T>(saved, z_at), n = at<T>(saved, n_at);
        const T g = at<T>(dout, h_at);
        const T a_n = g * (T(1) - z) * (T(1) - n * n);
        const T a_z = g * (at<T>(h, h_at) - n) * z * (T(1) - z);
        const T a_r = a_n * at<T>(gh, n_at) * r * (T(1) - r);
        at<T>(dh, h_at) = g * z;
        at<T>(dgi, r_at) = a_r, at<T>(dgi, z_at) = a_z, at<T>(dgi, n_at) = a_n;
        at<T>(dgh, r_at) = a_r, at<T>(dgh, z_at) = a_z, at<T>(dgh, n_at) = a_n * r;
      }
  });
}

// Additive attention scores, one (b, s, a) at a time, straight from the
// formulas in core/backend.h.
// One sequence after another through the recursion of core/ctc_recursion.h.
void ReferenceBackend::ctc_loss(const View& log_probs, const View& targets, const View& input_lengths,
                                const View& target_lengths, int64_t blank, const View& loss, const View* grad) {
  visit_float(log_probs.dtype, "ctc_loss", [&]<typename T>() {
    for (int64_t b = 0; b < log_probs.shape[1]; ++b)
      ctc::ctc_batch_item<T>(log_probs, targets, input_lengths, target_lengths, blank, loss, grad, b);
  });
}

void ReferenceBackend::additive_score(const View& keys, const View& query, const View& v, const View& score) {
  const auto [batch, source, attention] = checks::additive_score_args(keys, query, v, score);
  visit_float(keys.dtype, "additive_score",
              [&, batch = batch, source = source, attention = attention]<typename T>() {
                for (int64_t b = 0; b < batch; ++b)
                  for (int64_t s = 0; s < source; ++s) {
                    T sum = 0;
                    for (int64_t a = 0; a < attention; ++a)
                      sum += at<T>(v, Index{a}) * std::tanh(at<T>(keys, Index{b, s, a}) + at<T>(query, Index{b, a}));
                    at<T>(score, Index{b, s}) = sum;
                  }
              });
}

void ReferenceBackend::additive_score_backward(const View& keys, const View& query, const View& v,
                                               const View& dscore, const View* dkeys, const View* dquery,
                                               const View* dv) {
  const auto [batch, source, attention] =
      checks::additive_score_backward_args(keys, query, v, dscore, dkeys, dquery, dv);
  visit_float(keys.dtype, "additive_score_backward",
              [&, batch = batch, source = source, attention = attention]<typename T>() {
                for (int64_t b = 0; b < batch; ++b)
                  for (int64_t s = 0; s < source; ++s)
                    for (int64_t a = 0; a < attention; ++a) {
                      const T t = std::tanh(at<T>(keys, Index{b, s, a}) + at<T>(query, Index{b, a}));
                      const T g = at<T>(dscore, Index{b, s});
                      const T dsum = g * at<T>(v, Index{a}) * (T(1) - t * t);
                      if (dkeys != nullptr) at<T>(*dkeys, Index{b, s, a}) += dsum;
                      if (dquery != nullptr) at<T>(*dquery, Index{b, a}) += dsum;
                      if (dv != nullptr) at<T>(*dv, Index{a}) += g * t;
                    }
              });
}

namespace {
struct StdMath {
  template <class T> static T sqrt(T x) { return std::sqrt(x); }
};

// Element by element, in order; operands contiguous (checked).
template <bool amsgrad, typename T>
TG_NO_FP_CONTRACT void adam_loop(T* p, const T* g, T* m, T* v, T* v_max, int64_t n, const adam::Coefficients<T>& c) {
  for (int64_t i = 0; i < n; ++i) adam::element<amsgrad, StdMath>(p[i], g[i], m[i], v[i], amsgrad ? v_max[i] : v[i], c);
}
}  // namespace

void ReferenceBackend::adam_update(const View& param, const View& grad, const View& exp_avg, const View& exp_avg_sq,
                                   const View* max_exp_avg_sq, const AdamStep& step) {
  const int64_t n = checks::adam_update_args(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
  visit_float(param.dtype, "adam_update", [&]<typename T>() {
    const adam::Coefficients<T> c = adam::coefficients<T>(step);
    if (max_exp_avg_sq != nullptr)
      adam_loop<true>(param.as<T>(), grad.as<const T>(), exp_avg.as<T>(), exp_avg_sq.as<T>(), max_exp_avg_sq->as<T>(), n, c);
    else
      adam_loop<false>(param.as<T>(), grad.as<const T>(), exp_avg.as<T>(), exp_avg_sq.as<T>(), static_cast<T*>(nullptr), n, c);
  });
}

void ReferenceBackend::dropout_mask(const View& out, uint64_t key, double p) {
  const int64_t n = checks::dropout_mask_args(out, p);
  visit_float(out.dtype, "dropout_mask", [&]<typename T>() {
    T* const values = out.as<T>();
    for (int64_t i = 0; i < n; ++i) values[i] = random_bits::dropout_scale(key, i, 1 - p, T(1 / (1 - p)));
  });
}

Backend& reference_backend() {
  static ReferenceBackend backend;
  return backend;
}

namespace {
const RegisterHostBackend registered("reference", 0, &reference_backend);
}  // namespace

// Each row sorted in topk order (core/topk_order.h); its first k columns kept.
void ReferenceBackend::topk_rows(const View& x, bool largest, const View& indices) {
  checks::topk_rows_args(x, indices);
  const int64_t n = x.shape[1], k = indices.shape[1];
  visit_float(x.dtype, "topk_rows", [&]<typename T>() {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t r = 0; r < x.shape[0]; ++r) {
      for (int64_t c = 0; c < n; ++c) order[c] = c;
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return topk_ranks_before(at<T>(x, Index{r, a}), a, at<T>(x, Index{r, b}), b, largest);
      });
      for (int64_t j = 0; j < k; ++j) indices.as<int64_t>()[r * k + j] = order[j];
    }
  });
}

}  // namespace tg
