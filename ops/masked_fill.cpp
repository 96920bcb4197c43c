#include "ops/masked_fill.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/autograd/tape.h"

namespace tg {

// y = mask ? value : x;  dx += mask ? 0 : dy
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  const ProfileScope profile("masked_fill");
  check_defined(x, "masked_fill", "x");
  check_defined(mask, "masked_fill", "mask");
  if (mask.dtype() != DType::boolean)
    fail("masked_fill: mask must be bool, got {} {} (build masks with eq, lt, ...)", dtype_name(mask.dtype()),
         mask.shape().str());
  if (mask.device() != x.device())
    fail("masked_fill: x is on {} but mask is on {}", x.device().str(), mask.device().str());
  if (!(broadcast_shapes(mask.shape(), x.shape(), "masked_fill") == x.shape()))
    fail("masked_fill: mask {} does not broadcast to x {} (the result keeps x's shape)", mask.shape().str(),
         x.shape().str());
  Tensor y = compute::where(mask, scalar(value, {x.dtype(), x.device()}), x);
  const Saved mask_saved = save_if(x.requires_grad(), "mask", mask);
  record("masked_fill", {&x}, y, {mask_saved}, [dx = slot_of(x), mask_saved](const Tensor& dy) {
    accumulate_grad(*dx, compute::where(mask_saved.get(), scalar(0, {dy.dtype(), dy.device()}), dy));
  });
  return y;
}

}  // namespace tg
