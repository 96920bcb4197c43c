#pragma once
// Each rank's share of a global batch: items rank, rank + N, rank + 2N, ...
// of the batch (N ranks). Taking every N-th item rather than a contiguous
// block spreads a length-sorted batch's long and short sentences evenly over
// the ranks. Every rank builds the same global batch, so the shares cover it
// exactly once; a batch smaller than N leaves some ranks an empty share.
#include <cstddef>
#include <vector>

#include "core/services/error.h"

namespace tg::distributed {

template <typename T>
std::vector<T> rank_share(const std::vector<T>& batch, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size)
    fail("distributed::rank_share: rank {} of {} ranks; expected 0 <= rank < ranks", rank, world_size);
  std::vector<T> share;
  share.reserve(batch.size() / static_cast<size_t>(world_size) + 1);
  for (size_t i = static_cast<size_t>(rank); i < batch.size(); i += static_cast<size_t>(world_size))
    share.push_back(batch[i]);
  return share;
}

}  // namespace tg::distributed
