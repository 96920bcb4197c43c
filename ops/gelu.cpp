#include "ops/gelu.h"

#include <cmath>
#include <numbers>

#include "core/autograd/tape.h"
#include "ops/detail/compose.h"

namespace tg {

namespace {
using detail::add;
using detail::apply;
using detail::mul;

// Φ(x) = (1 + erf(x/√2)) / 2, the standard normal's distribution function.
Tensor normal_cdf(const Tensor& x) {
  return mul(add(apply(UnaryOp::erf, mul(x, 1 / std::numbers::sqrt2)), 1.0), 0.5);
}

constexpr double kTanhScale = 0.7978845608028654;  // √(2/π)
constexpr double kCubic = 0.044715;
}  // namespace

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
  const ProfileScope profile("gelu");
  check_defined(x, "gelu", "x");
  check_floating(x, "gelu");
  if (approximate == GeluApproximation::none) {
    // y = x·Φ(x);  dx += dy · (Φ(x) + x·φ(x))
    const Tensor cdf = normal_cdf(x);
    Tensor y = mul(x, cdf);
    const Saved x_saved = save_if(x.requires_grad(), "x", x), cdf_saved = save_if(x.requires_grad(), "cdf", cdf);
    record("gelu", {&x}, y, {x_saved, cdf_saved}, [dx = slot_of(x), x_saved, cdf_saved](const Tensor& dy) {
      const Tensor& x = x_saved.get();
      const Tensor pdf = mul(apply(UnaryOp::exp, mul(mul(x, x), -0.5)), 1 / std::sqrt(2 * std::numbers::pi));
      accumulate_grad(*dx, mul(dy, add(cdf_saved.get(), mul(x, pdf))));
    });
    return y;
  }
  // y = x/2 · (1 + t), t = tanh(k(x + 0.044715x³));  dx += dy · (½(1 + t) + ½x(1 − t²) · k(1 + 3·0.044715x²))
  const Tensor x2 = mul(x, x);
  const Tensor t = apply(UnaryOp::tanh, mul(mul(x, add(mul(x2, kCubic), 1.0)), kTanhScale));
  Tensor y = mul(mul(x, 0.5), add(t, 1.0));
  const bool needed = x.requires_grad();
  const Saved x_saved = save_if(needed, "x", x), x2_saved = save_if(needed, "x2", x2), t_saved = save_if(needed, "t", t);
  record("gelu", {&x}, y, {x_saved, x2_saved, t_saved}, [dx = slot_of(x), x_saved, x2_saved, t_saved](const Tensor& dy) {
    const Tensor &x = x_saved.get(), &t = t_saved.get();
    const Tensor one_minus_t2 = add(mul(mul(t, t), -1), 1.0);
    const Tensor inner_slope = mul(add(mul(x2_saved.get(), 3 * kCubic), 1.0), kTanhScale);
    const Tensor slope = add(mul(add(t, 1.0), 0.5), mul(mul(mul(x, 0.5), one_minus_t2), inner_slope));
    accumulate_grad(*dx, mul(dy, slope));
  });
  return y;
}

}  // namespace tg
