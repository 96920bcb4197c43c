#include "nn/dropout.h"

#include "core/error.h"
#include "ops/dropout.h"

namespace tg::nn {

Dropout::Dropout(double p, uint64_t seed) : p_(p), stream_(seed) {
  if (!(p >= 0 && p < 1)) fail("Dropout: p must be in [0, 1), got {}", p);
}

Tensor Dropout::forward(const Tensor& x) const {
  check_defined(x, "Dropout", "x");
  return dropout(x, p_, is_training(), stream_.advance());  // x (...) -> (...)
}

}  // namespace tg::nn
