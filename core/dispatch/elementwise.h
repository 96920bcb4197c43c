#pragma once
// Every elementwise function and its derivative, written once for all the
// backends that compile it: the cpu backend (with its vectorised float math)
// and the CUDA kernels (with the GPU's math). The reference backend keeps its
// own plain switch as the readable definition; the tests hold both to it.
//
// A unary functor gives  y = f(x, s)  and  dy/dx = df(x, y, s), where y = f(x)
// is passed in so that exp, sqrt, tanh and sigmoid reuse it; s is the op's
// scalar. A binary functor gives  out = f(a, b). `M` is the device's math:
// M::exp, M::log, M::sqrt, M::tanh, M::sigmoid, M::pow, M::abs, M::erf.
//
// Nothing here includes a tapegrad or CUDA header, so nvcc compiles it too.
#include <cstdint>

#if defined(__CUDACC__)
#define TG_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define TG_HOST_DEVICE inline
#endif

namespace tg {

enum class UnaryOp : uint8_t {
  neg,         // y = -x
  exp,         // y = e^x
  log,         // y = ln x
  sqrt,        // y = √x
  tanh,        // y = tanh x
  sigmoid,     // y = 1 / (1 + e^-x)
  relu,        // y = max(x, 0)
  abs,         // y = |x|
  erf,         // y = erf x = 2/√π ∫₀ˣ e^(-t²) dt
  pow_scalar,  // y = x^s
  mul_scalar,  // y = x * s
  add_scalar,  // y = x + s
  sin,         // y = sin x
  cos,         // y = cos x
};

enum class BinaryOp : uint8_t {
  add, sub, mul, div, maximum, minimum,  // float -> float
  eq, ne, lt, le, gt, ge,                // float -> bool
};
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::eq; }

// Which of x and y = f(x) a unary derivative df reads (the others ignore both):
// what the op saves for backward.
enum class UnaryReads : uint8_t { nothing, x, y };
constexpr UnaryReads unary_derivative_reads(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::sqrt: case UnaryOp::tanh: case UnaryOp::sigmoid: return UnaryReads::y;
    case UnaryOp::log: case UnaryOp::relu: case UnaryOp::abs: case UnaryOp::erf: case UnaryOp::pow_scalar:
    case UnaryOp::sin: case UnaryOp::cos:
      return UnaryReads::x;
    case UnaryOp::neg: case UnaryOp::mul_scalar: case UnaryOp::add_scalar: return UnaryReads::nothing;
  }
  return UnaryReads::nothing;
}

namespace elementwise {

template <UnaryOp op> struct Unary;

template <> struct Unary<UnaryOp::neg> {  // y = -x
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return -x; }
  template <class M, class T> TG_HOST_DEVICE static T df(T, T, T) { return T(-1); }
};
template <> struct Unary<UnaryOp::exp> {  // y = e^x
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::exp(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T, T y, T) { return y; }
};
template <> struct Unary<UnaryOp::log> {  // y = ln x
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::log(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T x, T, T) { return T(1) / x; }
};
template <> struct Unary<UnaryOp::sqrt> {  // y = √x
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::sqrt(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T, T y, T) { return T(0.5) / y; }
};
template <> struct Unary<UnaryOp::tanh> {  // y = tanh x
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::tanh(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T, T y, T) { return T(1) - y * y; }
};
template <> struct Unary<UnaryOp::sigmoid> {  // y = 1 / (1 + e^-x)
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::sigmoid(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T, T y, T) { return y * (T(1) - y); }
};
template <> struct Unary<UnaryOp::relu> {  // y = max(x, 0), NaN stays NaN
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return x < T(0) ? T(0) : x; }
  template <class M, class T> TG_HOST_DEVICE static T df(T x, T, T) { return x > T(0) ? T(1) : T(0); }
};
template <> struct Unary<UnaryOp::abs> {  // y = |x|
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::abs(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T x, T, T) { return T((x > T(0)) - (x < T(0))); }
};
template <> struct Unary<UnaryOp::erf> {  // y = erf x;  dy/dx = 2/√π · e^(-x²)
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::erf(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T x, T, T) {
    return T(1.1283791670955126) * M::exp(-x * x);
  }
};
template <> struct Unary<UnaryOp::sin> {  // y = sin x;  dy/dx = cos x
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::sin(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T x, T, T) { return M::cos(x); }
};
template <> struct Unary<UnaryOp::cos> {  // y = cos x;  dy/dx = -sin x
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T) { return M::cos(x); }
  template <class M, class T> TG_HOST_DEVICE static T df(T x, T, T) { return -M::sin(x); }
};
template <> struct Unary<UnaryOp::pow_scalar> {  // y = x^s
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T s) { return s == T(2) ? x * x : M::pow(x, s); }
  template <class M, class T> TG_HOST_DEVICE static T df(T x, T, T s) { return s * M::pow(x, s - T(1)); }
};
template <> struct Unary<UnaryOp::mul_scalar> {  // y = x * s
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T s) { return x * s; }
  template <class M, class T> TG_HOST_DEVICE static T df(T, T, T s) { return s; }
};
template <> struct Unary<UnaryOp::add_scalar> {  // y = x + s
  template <class M, class T> TG_HOST_DEVICE static T f(T x, T s) { return x + s; }
  template <class M, class T> TG_HOST_DEVICE static T df(T, T, T) { return T(1); }
};

// Arithmetic gives T; comparisons give bool. maximum and minimum return NaN
// when either side is NaN.
template <BinaryOp op> struct Binary;

template <> struct Binary<BinaryOp::add> {
  template <class T> TG_HOST_DEVICE static T f(T a, T b) { return a + b; }
};
template <> struct Binary<BinaryOp::sub> {
  template <class T> TG_HOST_DEVICE static T f(T a, T b) { return a - b; }
};
template <> struct Binary<BinaryOp::mul> {
  template <class T> TG_HOST_DEVICE static T f(T a, T b) { return a * b; }
};
template <> struct Binary<BinaryOp::div> {
  template <class T> TG_HOST_DEVICE static T f(T a, T b) { return a / b; }
};
template <> struct Binary<BinaryOp::maximum> {
  template <class T> TG_HOST_DEVICE static T f(T a, T b) { return a > b || a != a ? a : b; }
};
template <> struct Binary<BinaryOp::minimum> {
  template <class T> TG_HOST_DEVICE static T f(T a, T b) { return a < b || a != a ? a : b; }
};
template <> struct Binary<BinaryOp::eq> {
  template <class T> TG_HOST_DEVICE static bool f(T a, T b) { return a == b; }
};
template <> struct Binary<BinaryOp::ne> {
  template <class T> TG_HOST_DEVICE static bool f(T a, T b) { return a != b; }
};
template <> struct Binary<BinaryOp::lt> {
  template <class T> TG_HOST_DEVICE static bool f(T a, T b) { return a < b; }
};
template <> struct Binary<BinaryOp::le> {
  template <class T> TG_HOST_DEVICE static bool f(T a, T b) { return a <= b; }
};
template <> struct Binary<BinaryOp::gt> {
  template <class T> TG_HOST_DEVICE static bool f(T a, T b) { return a > b; }
};
template <> struct Binary<BinaryOp::ge> {
  template <class T> TG_HOST_DEVICE static bool f(T a, T b) { return a >= b; }
};

// Calls fn.template operator()<Unary<op>>(): the one switch from a run-time
// op to its functor, shared by the backends.
template <class Fn> void visit_unary(UnaryOp op, Fn&& fn) {
  switch (op) {
    case UnaryOp::neg: return fn.template operator()<Unary<UnaryOp::neg>>();
    case UnaryOp::exp: return fn.template operator()<Unary<UnaryOp::exp>>();
    case UnaryOp::log: return fn.template operator()<Unary<UnaryOp::log>>();
    case UnaryOp::sqrt: return fn.template operator()<Unary<UnaryOp::sqrt>>();
    case UnaryOp::tanh: return fn.template operator()<Unary<UnaryOp::tanh>>();
    case UnaryOp::sigmoid: return fn.template operator()<Unary<UnaryOp::sigmoid>>();
    case UnaryOp::relu: return fn.template operator()<Unary<UnaryOp::relu>>();
    case UnaryOp::abs: return fn.template operator()<Unary<UnaryOp::abs>>();
    case UnaryOp::erf: return fn.template operator()<Unary<UnaryOp::erf>>();
    case UnaryOp::pow_scalar: return fn.template operator()<Unary<UnaryOp::pow_scalar>>();
    case UnaryOp::mul_scalar: return fn.template operator()<Unary<UnaryOp::mul_scalar>>();
    case UnaryOp::add_scalar: return fn.template operator()<Unary<UnaryOp::add_scalar>>();
    case UnaryOp::sin: return fn.template operator()<Unary<UnaryOp::sin>>();
    case UnaryOp::cos: return fn.template operator()<Unary<UnaryOp::cos>>();
  }
}

// Calls fn.template operator()<Binary<op>>().
template <class Fn> void visit_binary(BinaryOp op, Fn&& fn) {
  switch (op) {
    case BinaryOp::add: return fn.template operator()<Binary<BinaryOp::add>>();
    case BinaryOp::sub: return fn.template operator()<Binary<BinaryOp::sub>>();
    case BinaryOp::mul: return fn.template operator()<Binary<BinaryOp::mul>>();
    case BinaryOp::div: return fn.template operator()<Binary<BinaryOp::div>>();
    case BinaryOp::maximum: return fn.template operator()<Binary<BinaryOp::maximum>>();
    case BinaryOp::minimum: return fn.template operator()<Binary<BinaryOp::minimum>>();
    case BinaryOp::eq: return fn.template operator()<Binary<BinaryOp::eq>>();
    case BinaryOp::ne: return fn.template operator()<Binary<BinaryOp::ne>>();
    case BinaryOp::lt: return fn.template operator()<Binary<BinaryOp::lt>>();
    case BinaryOp::le: return fn.template operator()<Binary<BinaryOp::le>>();
    case BinaryOp::gt: return fn.template operator()<Binary<BinaryOp::gt>>();
    case BinaryOp::ge: return fn.template operator()<Binary<BinaryOp::ge>>();
  }
}

}  // namespace elementwise
}  // namespace tg
