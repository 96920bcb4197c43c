#pragma once
// Beam search's ranking of a step's extensions, block by block. A block's rows
// (1 per sentence at the first step, K after) are one row of (rows per block ·
// V) candidates: candidate i·V + v scores log_probs[i, v] in float64 plus row
// i's hypothesis log_prob (-inf on idle rows, which so rank last), ranked as
// tg::topk ranks float64 (kernels/topk_rows/topk_order.h): by score, then by
// index, first on ties.
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg::translate {

// An extension of open hypothesis i of a sentence by `token`: index = i·V + token.
struct Extension {
  double score;
  int64_t index;
};

// Each block's best `count` extensions, in rank order.
struct RankedBlocks {
  int64_t count = 0;           // per block: min(count asked, rows per block · V)
  std::vector<int64_t> index;  // (blocks, count)
  std::vector<double> score;   // (blocks, count)
  // Block b's ranked extensions of its first `alive` rows, in rank order.
  std::vector<Extension> of_block(int64_t b, int64_t alive, int64_t V) const;
};

// log_probs (N, V), row_log_probs N values, N a multiple of blocks. On the host
// (float32 or float64 log_probs) one pass over log_probs; elsewhere
// rank_blocks_composed, so that 2 · blocks · count numbers come back instead of N · V.
RankedBlocks rank_blocks(const Tensor& log_probs, const std::vector<double>& row_log_probs, int64_t blocks,
                         int64_t count);

// The same ranking from tensor ops on log_probs' device: the (N, V) float64
// scores, then topk. What rank_blocks does off the host, and its check.
RankedBlocks rank_blocks_composed(const Tensor& log_probs, const std::vector<double>& row_log_probs, int64_t blocks,
                                  int64_t count);

}  // namespace tg::translate
