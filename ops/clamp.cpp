#include "ops/clamp.h"

#include <utility>

#include "core/services/error.h"
#include "core/autograd/tape.h"
#include "ops/detail/compose.h"

namespace tg {

// y = min(max(x, lo), hi);  dx += dy · [lo ≤ x ≤ hi]
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  const ProfileScope profile("clamp");
  check_defined(x, "clamp", "x");
  check_floating(x, "clamp");
  if (lo && hi && *lo > *hi) fail("clamp: min {} is above max {} (x {})", *lo, *hi, x.shape().str());
  Tensor y = x;
  if (lo) y = compute::binary(BinaryOp::maximum, y, detail::constant_like(x, *lo));
  if (hi) y = compute::binary(BinaryOp::minimum, y, detail::constant_like(x, *hi));
  if (!lo && !hi) y = x.detach().clone();  // recorded below as clamp
  const Saved x_saved = save_if(x.requires_grad(), "x", x);
  record("clamp", {&x}, y, {x_saved}, [dx = slot_of(x), x_saved, lo, hi](const Tensor& dy) {
    const Tensor& x = x_saved.get();
    const Tensor zero = detail::constant_like(dy, 0);
    Tensor g = dy;  // dy where x is inside [lo, hi], 0 where it was clamped
    if (lo) g = compute::where(compute::binary(BinaryOp::ge, x, detail::constant_like(x, *lo)), g, zero);
    if (hi) g = compute::where(compute::binary(BinaryOp::le, x, detail::constant_like(x, *hi)), g, zero);
    accumulate_grad(*dx, std::move(g));  // moved: an empty slot adopts it (a copy where it is still dy)
  });
  return y;
}

Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, std::nullopt); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, std::nullopt, hi); }

}  // namespace tg
