#include "ops/log1p.h"

#include "core/autograd/tape.h"
#include "ops/detail/compose.h"

namespace tg {

// y = log(1 + x);  dx += dy / (1 + x)
// No log1p kernel: detail::log1p_values composes it from add, log, mul, div
// with a correction that keeps small x accurate (log(1 + 1e-10) would lose
// six digits).
Tensor log1p(const Tensor& x) {
  const ProfileScope profile("log1p");
  check_defined(x, "log1p", "x");
  check_floating(x, "log1p");
  Tensor y = detail::log1p_values(x);
  const Saved x_saved = save_if(x.requires_grad(), "x", x);
  record("log1p", {&x}, y, {x_saved}, [dx = slot_of(x), x_saved](const Tensor& dy) {
    accumulate_grad(*dx, detail::div(dy, detail::add(x_saved.get(), 1.0)));
  });
  return y;
}

}  // namespace tg
