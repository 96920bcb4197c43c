#include "apps/translate/beam_ranking.h"

#include <algorithm>

#include "core/services/error.h"
#include "core/tensor/creation.h"
#include "core/types/run_extremes.h"
#include "ops/add.h"
#include "ops/reshape.h"
#include "ops/topk.h"

namespace tg::translate {

namespace {

bool ranks_before(const Extension& a, const Extension& b) {
  return topk_ranks_before(a.score, a.index, b.score, b.index, /*largest=*/true);
}

// Whether a chunk of a row may hold a score s = double(x) + base with !(s <= worst): a NaN in it, or its
// largest value's score (s rises with x) not <= worst.
template <typename T>
bool may_enter(const T* x, int64_t n, double base, double worst) {
  const RunExtreme<T> largest = run_max(x, n);
  return largest.nans > 0 || !(double(largest.value) + base <= worst);
}

// One block's best `count` (> 0) candidates, rows (rows_in_block, V) row-major, written in rank order to
// index_out and score_out. The best so far are kept in order, as topk_rows' cpu body keeps them; a later
// candidate ranks before the count-th only by score or NaN (its index is larger), and !(s <= worst) holds for
// every such s, so a chunk that may_enter rules out is passed over whole.
template <typename T>
void rank_block(const T* rows, const double* bases, int64_t rows_in_block, int64_t V, int64_t count,
                int64_t* index_out, double* score_out) {
  constexpr int64_t kChunk = 64;
  std::vector<Extension> best;
  best.reserve(static_cast<size_t>(count) + 1);
  auto offer = [&](double score, int64_t index) {
    const Extension candidate{score, index};
    if (static_cast<int64_t>(best.size()) == count) {
      if (!ranks_before(candidate, best.back())) return;
      best.pop_back();
    }
    best.insert(std::upper_bound(best.begin(), best.end(), candidate, ranks_before), candidate);
  };
  for (int64_t i = 0; i < rows_in_block; ++i) {
    const T* row = rows + i * V;
    const double base = bases[i];
    int64_t v = 0;
    for (; v < V && static_cast<int64_t>(best.size()) < count; ++v) offer(double(row[v]) + base, i * V + v);
    for (; v + kChunk <= V; v += kChunk)
      if (may_enter(row + v, kChunk, base, best.back().score))
        for (int64_t j = 0; j < kChunk; ++j) offer(double(row[v + j]) + base, i * V + v + j);
    for (; v < V; ++v) offer(double(row[v]) + base, i * V + v);
  }
  for (int64_t j = 0; j < count; ++j) index_out[j] = best[j].index, score_out[j] = best[j].score;
}

template <typename T>
RankedBlocks rank_on_host(const Tensor& log_probs, const std::vector<double>& row_log_probs, int64_t blocks,
                          int64_t count) {
  const Tensor rows = log_probs.contiguous();
  const int64_t N = rows.size(0), V = rows.size(1), rows_per_block = N / blocks;
  RankedBlocks ranked;
  ranked.count = std::min(count, rows_per_block * V);
  ranked.index.resize(static_cast<size_t>(blocks * ranked.count));
  ranked.score.resize(ranked.index.size());
  if (ranked.count == 0) return ranked;
  const T* data = rows.data<T>();
  for (int64_t b = 0; b < blocks; ++b)
    rank_block(data + b * rows_per_block * V, row_log_probs.data() + b * rows_per_block, rows_per_block, V,
               ranked.count, ranked.index.data() + b * ranked.count, ranked.score.data() + b * ranked.count);
  return ranked;
}

// The shapes both paths need: log_probs (N, V), N values in row_log_probs, blocks > 0 dividing N, count ≥ 0.
void check_ranking_arguments(const Tensor& log_probs, const std::vector<double>& row_log_probs, int64_t blocks,
                             int64_t count) {
  if (log_probs.ndim() != 2) fail("rank_blocks: log_probs must be (N, V), got shape {}", log_probs.shape().str());
  const int64_t N = log_probs.size(0);
  if (static_cast<int64_t>(row_log_probs.size()) != N)
    fail("rank_blocks: {} row log-probs for log_probs of shape {}: expected one per row", row_log_probs.size(),
         log_probs.shape().str());
  if (blocks <= 0 || N % blocks != 0)
    fail("rank_blocks: {} blocks for {} rows: expected a positive count dividing the rows", blocks, N);
  if (count < 0) fail("rank_blocks: count must be >= 0, got {}", count);
}

}  // namespace

std::vector<Extension> RankedBlocks::of_block(int64_t b, int64_t alive, int64_t V) const {
  std::vector<Extension> ranked;
  for (int64_t j = b * count; j < (b + 1) * count; ++j)
    if (index[j] / V < alive) ranked.push_back({score[j], index[j]});
  return ranked;
}

RankedBlocks rank_blocks(const Tensor& log_probs, const std::vector<double>& row_log_probs, int64_t blocks,
                         int64_t count) {
  check_ranking_arguments(log_probs, row_log_probs, blocks, count);
  if (log_probs.device().is_host()) {
    if (log_probs.dtype() == DType::f32) return rank_on_host<float>(log_probs, row_log_probs, blocks, count);
    if (log_probs.dtype() == DType::f64) return rank_on_host<double>(log_probs, row_log_probs, blocks, count);
  }
  return rank_blocks_composed(log_probs, row_log_probs, blocks, count);
}

RankedBlocks rank_blocks_composed(const Tensor& log_probs, const std::vector<double>& row_log_probs, int64_t blocks,
                                  int64_t count) {
  check_ranking_arguments(log_probs, row_log_probs, blocks, count);
  const int64_t N = log_probs.size(0), V = log_probs.size(1), candidates = N / blocks * V;
  const Tensor base = from_vector(row_log_probs, Shape{N, 1}, {DType::f64, log_probs.device()});
  const Tensor scores = reshape(add(log_probs.to(DType::f64), base), {blocks, candidates});
  RankedBlocks ranked;
  ranked.count = std::min(count, candidates);
  const TopK best = topk(scores, ranked.count, 1);
  ranked.index = best.indices.to_vector<int64_t>();
  ranked.score = best.values.to_vector<double>();
  return ranked;
}

}  // namespace tg::translate
