#include "ops/where.h"

#include "core/creation.h"
#include "core/error.h"
#include "core/kernels.h"
#include "core/tape.h"

namespace tg {

// y = cond ? a : b;  da += cond ? dy : 0,  db += cond ? 0 : dy   (summed to each shape)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const ProfileScope profile("where");
  check_defined(cond, "where", "cond");
  check_defined(a, "where", "a");
  check_defined(b, "where", "b");
  if (cond.dtype() != DType::boolean)
    fail("where: cond must be bool, got {} {} (build masks with eq, lt, ...)", dtype_name(cond.dtype()),
         cond.shape().str());
  if (cond.device() != a.device())
    fail("where: cond is on {} but a is on {}", cond.device().str(), a.device().str());
  Tensor y = kernels::where(cond, a, b);
  record("where", {&a, &b}, y, [cond, a, b](const Tensor& dy) {
    const Tensor zero = scalar(0, {dy.dtype(), dy.device()});
    if (a.requires_grad()) accumulate_grad(a, kernels::where(cond, dy, zero));
    if (b.requires_grad()) accumulate_grad(b, kernels::where(cond, zero, dy));
  });
  return y;
}

}  // namespace tg
