#include "ops/binary_cross_entropy.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/add.h"
#include "ops/clamp.h"
#include "ops/detail/reduce_loss.h"
#include "ops/log.h"
#include "ops/mul.h"
#include "ops/neg.h"
#include "ops/softplus.h"
#include "ops/sub.h"

namespace tg {

namespace {
void check_pair(const char* op, const char* what, const Tensor& x, const Tensor& target) {
  check_defined(x, op, what);
  check_defined(target, op, "target");
  check_same_kind(x, target, op);
  check_floating(x, op);
  if (x.shape() != target.shape())
    fail("{}: {} {} and target {}: shapes differ (reshape one to the other's shape)", op, what, x.shape().str(),
         target.shape().str());
}
}  // namespace

// Recorded through log, clamp, mul and the reduction.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction reduction) {
  const ProfileScope profile("binary_cross_entropy");
  check_pair("binary_cross_entropy", "probs", probs, target);
  const Tensor log_p = clamp(log(probs), -100.0, std::nullopt);
  const Tensor log_not_p = clamp(log(sub(1.0, probs)), -100.0, std::nullopt);
  const Tensor loss = neg(add(mul(target, log_p), mul(sub(1.0, target), log_not_p)));
  return detail::reduce_loss(loss, reduction);
}

// Recorded through softplus (whose derivative is σ) and mul.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  const ProfileScope profile("binary_cross_entropy_with_logits");
  check_pair("binary_cross_entropy_with_logits", "logits", logits, target);
  return detail::reduce_loss(sub(softplus(logits), mul(target, logits)), reduction);
}

}  // namespace tg
