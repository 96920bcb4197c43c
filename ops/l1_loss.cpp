#include "ops/l1_loss.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/abs.h"
#include "ops/compare.h"
#include "ops/detail/reduce_loss.h"
#include "ops/mul.h"
#include "ops/sub.h"
#include "ops/where.h"

namespace tg {

namespace {
// a − b after the checks every elementwise loss makes (same shape, floating).
Tensor difference(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(a, op, "a");
  check_defined(b, op, "b");
  check_same_kind(a, b, op);
  check_floating(a, op);
  if (a.shape() != b.shape())
    fail("{}: input {} and target {}: shapes differ (reshape one to the other's shape)", op, a.shape().str(),
         b.shape().str());
  return sub(a, b);
}
}  // namespace

// Recorded through abs and the reduction.
Tensor l1_loss(const Tensor& a, const Tensor& b, Reduction reduction) {
  const ProfileScope profile("l1_loss");
  return detail::reduce_loss(abs(difference("l1_loss", a, b)), reduction);
}

// Recorded through where: each element takes the gradient of its own branch.
Tensor smooth_l1_loss(const Tensor& a, const Tensor& b, Reduction reduction, double beta) {
  const ProfileScope profile("smooth_l1_loss");
  if (!(beta >= 0)) fail("smooth_l1_loss: beta must be >= 0, got {}", beta);
  const Tensor d = difference("smooth_l1_loss", a, b);
  const Tensor size = abs(d);
  if (beta == 0) return detail::reduce_loss(size, reduction);
  const Tensor quadratic = mul(mul(d, d), 0.5 / beta), linear = sub(size, 0.5 * beta);
  return detail::reduce_loss(where(lt(size, beta), quadratic, linear), reduction);
}

}  // namespace tg
