#include "ops/dropout.h"

#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"

namespace tg {

// y = x * m / (1 - p), m ~ Bernoulli(1 - p);  dx += dy * m / (1 - p).
// The mask is drawn where x lives, from one 64-bit key taken from `gen`
// (core/random_bits.h), so a GPU never waits for host random numbers and every
// backend draws the same mask for the same key.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  const ProfileScope profile("dropout");
  check_defined(x, "dropout", "x");
  check_floating(x, "dropout");
  if (!(p >= 0 && p < 1)) fail("dropout: p must be in [0, 1), got {}", p);
  if (!training || p == 0) return x;

  // scale = m / (1 - p): an element is kept when its uniform draw u < 1 - p.
  const Tensor scale = kernels::dropout_mask(x.shape(), {x.dtype(), x.device()}, gen.next_u64(), p);
  Tensor y = kernels::binary(BinaryOp::mul, x, scale);
  const Saved mask = save_if(x.requires_grad(), "mask", scale);
  record("dropout", {&x}, y, {mask}, [dx = slot_of(x), mask](const Tensor& dy) {
    accumulate_grad(*dx, kernels::binary(BinaryOp::mul, dy, mask.get()));
  });
  return y;
}

}  // namespace tg
