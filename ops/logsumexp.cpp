#include "ops/logsumexp.h"

#include <cmath>

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "core/services/profiler.h"
#include "ops/abs.h"
#include "ops/add.h"
#include "ops/compare.h"
#include "ops/exp.h"
#include "ops/log.h"
#include "ops/max.h"
#include "ops/reshape.h"
#include "ops/sub.h"
#include "ops/sum.h"
#include "ops/where.h"

namespace tg {

// Recorded through its parts: d/dx [m + log Σ e^(x−m)] = e^(x−m) / Σ e^(x−m) with m constant.
Tensor logsumexp(const Tensor& x, int axis, bool keepdim) {
  const ProfileScope profile("logsumexp");
  const int a = check_floating_axis(x, axis, "logsumexp");
  Tensor m = max(x, a, true).values.detach();  // (…, 1, …)
  // An infinite maximum would give ∞ − ∞ = nan: shift such a slice by 0 instead (log Σ e^x is then ±∞ as it should).
  m = where(eq(abs(m), INFINITY), compute::zeros_like(m), m);
  const Tensor y = add(log(sum(exp(sub(x, m)), {a}, true)), m);
  return keepdim ? y : squeeze(y, a);
}

}  // namespace tg
