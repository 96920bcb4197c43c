#include "ops/repeat.h"

#include "core/services/error.h"
#include "core/services/profiler.h"
#include "ops/expand.h"
#include "ops/reshape.h"

namespace tg {

// Composed: x seen as (1, s0, 1, s1, ...), expanded to (r0, s0, r1, s1, ...),
// reshaped to (r0·s0, r1·s1, ...); expand's backward sums the copies.
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  const ProfileScope profile("repeat");
  check_defined(x, "repeat", "x");
  const int rank = static_cast<int>(repeats.size());
  if (rank < x.ndim())
    fail("repeat: {} repeat count{} for x {} of {} dimensions; give at least one per dimension", repeats.size(),
         repeats.size() == 1 ? "" : "s", x.shape().str(), x.ndim());
  if (2 * rank > kMaxDims)
    fail("repeat: {} repeat counts need {} dimensions on the way, more than the {} a tensor has", rank, 2 * rank,
         kMaxDims);
  Shape paired, grown, out;
  for (int i = 0; i < rank; ++i) {
    const int64_t r = repeats[static_cast<size_t>(i)];
    if (r < 0) fail("repeat: repeat counts must be >= 0, got {} for dimension {}", r, i);
    const int64_t s = i < rank - x.ndim() ? 1 : x.size(i - (rank - x.ndim()));
    paired.push_back(1);
    paired.push_back(s);
    grown.push_back(r);
    grown.push_back(s);
    out.push_back(r * s);
  }
  return reshape(expand(reshape(x, paired), grown), out);
}

}  // namespace tg
