#pragma once
// A parameter's kept bfloat16 packings (packed_operand_cache.h) packed again
// while an optimizer writes the parameter, a chunk of its values at a time:
// each chunk is packed just after it is written, while it is still in the
// caches. Packed later, at the next step's first product, the whole
// parameter came from memory again: a translation model's output layer W
// (5921, 1792), 42 MB, twice a step (as Wᵀ for the logits, as W for their
// input gradient), about 6 ms of a 170 ms bfloat16 training step on Zen 5
// for all its parameters' packings, bound by memory at 2 threads.
//
// The packings made are the bits packed_b would make from the new values
// (the same pack functions, whole panels or whole pairs of rows), under the
// parameter's new version; a packing this cannot make (another format, a
// batch of B, strides other than a matrix's or its transpose's) stays in the
// cache, stale, and is made at its next use as before.
//
//   KeptPackingRefresh refresh(p, n, id, version);  // takes the stale packings
//   for each chunk: write p[begin, end); refresh.written(end);
//   refresh.finish();                              // back into the cache
#include <cstdint>
#include <vector>

#include "backends/cpu/packed_operand_cache.h"

namespace tg::cpu {

class KeptPackingRefresh {
 public:
  // The parameter at `data` (`numel` float32 values in a row) of storage `storage_id`, now at `version`.
  KeptPackingRefresh(const float* data, int64_t numel, uint64_t storage_id, uint64_t version);
  KeptPackingRefresh(const KeptPackingRefresh&) = delete;
  KeptPackingRefresh& operator=(const KeptPackingRefresh&) = delete;

  bool empty() const { return parts_.empty(); }
  // The first `written` values hold their new values: packs what reads only them (split over the threads).
  void written(int64_t written);
  // Packs the rest and gives every packing back to the cache under the new version.
  void finish();

 private:
  // One taken packing: B's columns (panels of 32) or its pairs of rows, `done` of `count` packed so far.
  struct Part {
    PackedOperandCache::Taken taken;
    bool by_columns;      // B = Wᵀ: column j is W's row, a run of memory; else row kk of B is
    int64_t origin;       // B[0, 0]'s place in the parameter
    int64_t done = 0, count = 0;
  };
  int64_t ready(const Part& part, int64_t written) const;  // panels or pair rows that read only [0, written)

  int64_t numel_;
  uint64_t version_;
  std::vector<Part> parts_;
};

}  // namespace tg::cpu
