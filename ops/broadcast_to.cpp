#include "ops/broadcast_to.h"

#include "ops/detail/expand_view.h"

namespace tg {
// y = x broadcast to `shape` (stride 0 where grown);  dx += dy summed over the broadcast dimensions
Tensor broadcast_to(const Tensor& x, const Shape& shape) { return detail::expand_view("broadcast_to", x, shape); }
}  // namespace tg
