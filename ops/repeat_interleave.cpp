#include "ops/repeat_interleave.h"

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/index_select.h"

namespace tg {

// Composed: index_select with each index repeated (its backward sums the copies' gradients).
Tensor repeat_interleave(const Tensor& x, const std::vector<int64_t>& repeats, int axis) {
  const ProfileScope profile("repeat_interleave");
  check_defined(x, "repeat_interleave", "x");
  const int a = normalize_axis(axis, x.ndim(), "repeat_interleave");
  if (static_cast<int64_t>(repeats.size()) != x.size(a))
    fail("repeat_interleave: {} repeat counts for axis {} of x {}, which has {} elements", repeats.size(), axis,
         x.shape().str(), x.size(a));
  std::vector<int64_t> index;
  for (size_t i = 0; i < repeats.size(); ++i) {
    if (repeats[i] < 0) fail("repeat_interleave: repeat counts must be >= 0, got {} for element {}", repeats[i], i);
    index.insert(index.end(), static_cast<size_t>(repeats[i]), static_cast<int64_t>(i));
  }
  return index_select(x, a, index_tensor(index).to(x.device()));
}

Tensor repeat_interleave(const Tensor& x, int64_t repeats, int axis) {
  check_defined(x, "repeat_interleave", "x");
  if (repeats < 0) fail("repeat_interleave: repeats must be >= 0, got {}", repeats);
  return repeat_interleave(x, std::vector<int64_t>(static_cast<size_t>(x.size(normalize_axis(axis, x.ndim(),
                                                                                              "repeat_interleave"))),
                                                   repeats),
                           axis);
}

}  // namespace tg
