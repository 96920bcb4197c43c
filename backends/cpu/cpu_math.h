#pragma once
// Branch-free float32 exp, tanh and sigmoid that the compiler can vectorise
// (glibc's expf/tanhf are called one element at a time, and were ~70% of a
// GRU step's elementwise time). Accurate to a few ulp; float64 keeps std::.
//
//   e^x:  x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial
//         (minimax coefficients), e^x = 2^n · e^r with 2^n built in the
//         exponent bits.
//   tanh: odd polynomial for |x| < 0.625 (where 1 - 2/(e^2x + 1) loses bits),
//         else sign(x) · (1 - 2 / (e^(2|x|) + 1)).
#include <bit>
#include <cmath>
#include <cstdint>

namespace tg::cpu {

constexpr float kExpMax = 88.7228391f, kExpMin = -87.3365447504f;  // ln of the largest / smallest normal float

// e^x = 2^n · e^r for x already clamped to [kExpMin, kExpMax]: n = round(x / ln2), r = x - n·ln2.
struct ExpParts {
  float er;  // e^r
  int32_t n;
};
inline ExpParts exp_parts(float clamped) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // ln2 = hi + lo, hi exact in few bits
  // Round to nearest by adding and removing 1.5·2^23 (floor() would not vectorise).
  constexpr float kRoundMagic = 12582912.0f;
  const float n = (clamped * kLog2e + kRoundMagic) - kRoundMagic;
  const float r = clamped - n * kLn2Hi - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return {p * r * r + r + 1.0f, static_cast<int32_t>(n)};
}

inline float exp_f32(float x) {
  // Ternaries, not fmin/fmax: those are libm calls. NaN clamps to kExpMin here, so
  // that converting n to int is defined; the last line returns the NaN.
  const float low_clamped = x > kExpMin ? x : kExpMin;
  const ExpParts e = exp_parts(low_clamped > kExpMax ? kExpMax : low_clamped);
  // 2^n as two factors 2^half · 2^(n-half): n runs from -126 to 128, past
  // what one exponent field holds at the top end.
  const int32_t half = e.n >> 1;
  const float scale_a = std::bit_cast<float>((half + 127) << 23);
  const float scale_b = std::bit_cast<float>((e.n - half + 127) << 23);
  float y = e.er * scale_a * scale_b;
  y = x > kExpMax ? INFINITY : y;
  y = x < kExpMin - 17.0f ? 0.0f : y;  // below the denormal range
  return x != x ? x : y;               // NaN in, NaN out
}

// exp_f32 for x ≤ 0 (softmax's x - max, log-softmax's outputs), the same
// bits: n ≥ -126 fits one exponent field, and nothing overflows.
inline float exp_nonpositive_f32(float x) {
  const ExpParts e = exp_parts(x > kExpMin ? x : kExpMin);
  float y = e.er * std::bit_cast<float>((e.n + 127) << 23);
  y = x < kExpMin - 17.0f ? 0.0f : y;
  return x != x ? x : y;
}

inline float tanh_f32(float x) {
  const float a = std::fabs(x);
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = x + x * z * p;
  const float large = 1.0f - 2.0f / (exp_f32(2.0f * (a < 10.0f ? a : 10.0f)) + 1.0f);  // tanh(10) rounds to 1 in float
  const float y = a < 0.625f ? small : std::copysign(large, x);
  return x != x ? x : y;
}

inline float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }

// The float64 versions are the standard library's.
inline double exp_any(double x) { return std::exp(x); }
inline float exp_any(float x) { return exp_f32(x); }
inline double exp_nonpositive_any(double x) { return std::exp(x); }
inline float exp_nonpositive_any(float x) { return exp_nonpositive_f32(x); }
inline double tanh_any(double x) { return std::tanh(x); }
inline float tanh_any(float x) { return tanh_f32(x); }
inline double sigmoid_any(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline float sigmoid_any(float x) { return sigmoid_f32(x); }

// The math policy the cpu backend evaluates the elementwise functors with
// (core/dispatch/elementwise.h): the vectorisable exp, tanh and sigmoid above, the
// standard library for the rest.
struct CpuMath {
  template <class T> static T exp(T x) { return exp_any(x); }
  template <class T> static T tanh(T x) { return tanh_any(x); }
  template <class T> static T sigmoid(T x) { return sigmoid_any(x); }
  template <class T> static T log(T x) { return std::log(x); }
  template <class T> static T sqrt(T x) { return std::sqrt(x); }
  template <class T> static T pow(T x, T p) { return std::pow(x, p); }
  template <class T> static T abs(T x) { return std::abs(x); }
  template <class T> static T erf(T x) { return std::erf(x); }
  template <class T> static T sin(T x) { return std::sin(x); }
  template <class T> static T cos(T x) { return std::cos(x); }
};

}  // namespace tg::cpu
