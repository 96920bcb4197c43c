#include "ops/dropout.h"

#include "core/creation.h"
#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"

namespace tg {

// y = x * m / (1 - p), m ~ Bernoulli(1 - p);  dx += dy * m / (1 - p)
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  const ProfileScope profile("dropout");
  check_defined(x, "dropout", "x");
  check_floating(x, "dropout");
  if (!(p >= 0 && p < 1)) fail("dropout: p must be in [0, 1), got {}", p);
  if (!training || p == 0) return x;

  // scale = m / (1 - p): keep an element when its uniform draw u < 1 - p.
  const Tensor u = uniform(x.shape(), 0, 1, {DType::f64, x.device()}, gen);
  const Tensor keep = kernels::binary(BinaryOp::lt, u, scalar(1 - p, {DType::f64, x.device()}));
  const Tensor scale = kernels::where(keep, scalar(1 / (1 - p), {x.dtype(), x.device()}),
                                      scalar(0, {x.dtype(), x.device()}));
  Tensor y = kernels::binary(BinaryOp::mul, x, scale);
  record("dropout", {&x}, y,
         [x, scale](const Tensor& dy) { accumulate_grad(x, kernels::binary(BinaryOp::mul, dy, scale)); });
  return y;
}

}  // namespace tg
