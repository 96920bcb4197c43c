#include "ops/flip.h"

#include <algorithm>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/index_select.h"

namespace tg {

// Composed: one index_select per axis with the indices n−1, …, 0 (its backward scatters back).
Tensor flip(const Tensor& x, const std::vector<int>& axes) {
  const ProfileScope profile("flip");
  check_defined(x, "flip", "x");
  std::vector<int> seen;
  Tensor y = x;
  for (const int axis : axes) {
    const int a = normalize_axis(axis, x.ndim(), "flip");
    if (std::find(seen.begin(), seen.end(), a) != seen.end()) fail("flip: axis {} is listed twice", axis);
    seen.push_back(a);
    std::vector<int64_t> reversed(static_cast<size_t>(x.size(a)));
    for (size_t i = 0; i < reversed.size(); ++i) reversed[i] = static_cast<int64_t>(reversed.size() - 1 - i);
    y = index_select(y, a, index_tensor(reversed).to(x.device()));
  }
  return axes.empty() ? x.clone() : y;  // a copy, as torch.flip(x, []), on the tape
}

}  // namespace tg
