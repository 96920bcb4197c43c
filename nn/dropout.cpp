#include "nn/dropout.h"

#include "core/services/error.h"
#include "ops/dropout.h"

namespace tg::nn {

namespace {
double checked_p(double p) {
  if (!(p >= 0 && p < 1)) fail("Dropout: p must be in [0, 1), got {}", p);
  return p;
}
}  // namespace

Dropout::Dropout(double p) : p_(checked_p(p)) {}

Dropout::Dropout(double p, uint64_t seed) : p_(checked_p(p)), stream_(seed) {}

Tensor Dropout::forward(const Tensor& x) const {
  check_defined(x, "Dropout", "x");
  return dropout(x, p_, is_training(), stream_.advance());  // x (...) -> (...)
}

}  // namespace tg::nn
