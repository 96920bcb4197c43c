// Chapter 1, exercise: f = (a + b)·(a - b) uses a and b twice each. Its
// gradients are df/da = 2a and df/db = -2b; a second backward of a freshly
// recorded f adds the same again (gradients accumulate until reset).
// Exits 1 on a mismatch.
#include <fmt/format.h>
#include <tapegrad.h>

#include <cmath>

int main() {
  const tg::TensorOptions leaf{.dtype = tg::DType::f64, .requires_grad = true};
  const tg::Tensor a = tg::scalar(3.0, leaf), b = tg::scalar(1.5, leaf);
  auto f = [&] { return (a + b) * (a - b); };
  f().backward();
  const double da_once = a.grad().item(), db_once = b.grad().item();
  f().backward();  // recorded again, back-propagated again: the gradients add up
  const double da_twice = a.grad().item(), db_twice = b.grad().item();
  fmt::print("df/da = {} (2a = {}), df/db = {} (-2b = {})\n", da_once, 2 * 3.0, db_once, -2 * 1.5);
  fmt::print("after a second backward: {} and {}\n", da_twice, db_twice);
  const bool ok = std::abs(da_once - 6.0) < 1e-12 && std::abs(db_once + 3.0) < 1e-12 &&
                  std::abs(da_twice - 12.0) < 1e-12 && std::abs(db_twice + 6.0) < 1e-12;
  return ok ? 0 : 1;
}
