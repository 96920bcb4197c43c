#include "ops/dropout.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"
#include "kernels/dropout_mask/dropout_mask.h"

namespace tg {

namespace {
// Dropout's factors (kernels/dropout_mask/dropout_mask.h), a new contiguous tensor.
Tensor dropout_factors(const Shape& shape, TensorOptions options, uint64_t key, double p) {
  Tensor mask = Tensor::empty(shape, options);
  kernels::dropout_mask(backend_for(options.device), {mask.view(), key, p});
  return mask;
}
}  // namespace

// y = x * m / (1 - p), m ~ Bernoulli(1 - p);  dx += dy * m / (1 - p).
// The mask is drawn where x lives, from one 64-bit key taken from `gen`
// (core/dispatch/random_bits.h), so a GPU never waits for host random numbers and every
// backend draws the same mask for the same key. Backward draws it again from
// the key: the node saves 8 bytes instead of a mask the size of x.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  const ProfileScope profile("dropout");
  check_defined(x, "dropout", "x");
  check_floating(x, "dropout");
  if (!(p >= 0 && p < 1)) fail("dropout: p must be in [0, 1), got {}", p);
  if (!training || p == 0) return x;

  // scale = m / (1 - p): an element is kept when its uniform draw u < 1 - p.
  const uint64_t key = gen.next_u64();
  const TensorOptions options{x.dtype(), x.device()};
  const Tensor scale = dropout_factors(x.shape(), options, key, p);
  Tensor y = compute::binary(BinaryOp::mul, x, scale);
  record("dropout", {&x}, y, [dx = slot_of(x), options, key, p](const Tensor& dy) {  // saves the key only
    const Tensor scale = dropout_factors(dx->shape, options, key, p);
    accumulate_grad(*dx, compute::binary(BinaryOp::mul, dy, scale));
  });
  return y;
}

}  // namespace tg
