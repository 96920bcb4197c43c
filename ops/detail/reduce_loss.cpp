#include "ops/detail/reduce_loss.h"

#include "ops/mean.h"
#include "ops/sum.h"

namespace tg::detail {

Tensor reduce_loss(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::mean: return mean(loss);
    case Reduction::sum: return sum(loss);
    case Reduction::none: return loss;
  }
  return loss;
}

}  // namespace tg::detail
