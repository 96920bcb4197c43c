#include "ops/gelu.h"

#include <cmath>
#include <numbers>

#include "core/tape.h"
#include "ops/compose.h"

namespace tg {

namespace {
using detail::add;
using detail::apply;
using detail::mul;

// Φ(x) = erfc(−x/√2) / 2, with erfc(u) for z = |u|, t = 1 / (1 + z/2):
//   erfc(u) ≈ t · exp(−z² + P(t)) for u ≥ 0, 2 − that for u < 0
// (Chebyshev fit, relative error below 1.2e-7 everywhere).
Tensor normal_cdf(const Tensor& x) {
  static constexpr double kP[] = {-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                                  0.27886807,  -1.13520398, 1.48851587, -0.82215223, 0.17087277};
  const Tensor u = mul(x, -1 / std::numbers::sqrt2);
  const Tensor z = apply(UnaryOp::abs, u);
  const Tensor t = detail::div(detail::constant_like(x, 1), add(mul(z, 0.5), 1.0));
  Tensor p = mul(t, kP[9]);  // Horner: P(t) = kP[0] + t(kP[1] + t(... + t·kP[9]))
  for (int i = 8; i >= 1; --i) p = mul(add(p, kP[i]), t);
  p = add(p, kP[0]);
  const Tensor erfc_z = mul(t, apply(UnaryOp::exp, detail::sub(p, mul(z, z))));  // erfc(|u|)
  const Tensor negative = kernels::binary(BinaryOp::lt, u, detail::constant_like(x, 0));
  const Tensor erfc_u = kernels::where(negative, add(mul(erfc_z, -1), 2.0), erfc_z);
  return mul(erfc_u, 0.5);
}

constexpr double kTanhScale = 0.7978845608028654;  // √(2/π)
constexpr double kCubic = 0.044715;
}  // namespace

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
  check_defined(x, "gelu", "x");
  check_floating(x, "gelu");
  if (approximate == GeluApproximation::none) {
    // y = x·Φ(x);  dx += dy · (Φ(x) + x·φ(x))
    const Tensor cdf = normal_cdf(x);
    Tensor y = mul(x, cdf);
    record("gelu", {&x}, y, [x, cdf](const Tensor& dy) {
      const Tensor pdf = mul(apply(UnaryOp::exp, mul(mul(x, x), -0.5)), 1 / std::sqrt(2 * std::numbers::pi));
      accumulate_grad(x, mul(dy, add(cdf, mul(x, pdf))));
    });
    return y;
  }
  // y = x/2 · (1 + t), t = tanh(k(x + 0.044715x³));  dx += dy · (½(1 + t) + ½x(1 − t²) · k(1 + 3·0.044715x²))
  const Tensor x2 = mul(x, x);
  const Tensor t = apply(UnaryOp::tanh, mul(mul(x, add(mul(x2, kCubic), 1.0)), kTanhScale));
  Tensor y = mul(mul(x, 0.5), add(t, 1.0));
  record("gelu", {&x}, y, [x, x2, t](const Tensor& dy) {
    const Tensor one_minus_t2 = add(mul(mul(t, t), -1), 1.0);
    const Tensor inner_slope = mul(add(mul(x2, 3 * kCubic), 1.0), kTanhScale);
    const Tensor slope = add(mul(add(t, 1.0), 0.5), mul(mul(mul(x, 0.5), one_minus_t2), inner_slope));
    accumulate_grad(x, mul(dy, slope));
  });
  return y;
}

}  // namespace tg
