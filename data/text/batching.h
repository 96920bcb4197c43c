#pragma once
// Batches of sentence pairs for a time-major sequence-to-sequence model.
//
// Training: each epoch shuffles the pairs with (seed, epoch), so epoch k is
// the same on every run; then, bucketing, cuts the shuffled order into pools
// of `pool_batches` batches, sorts each pool by length and cuts it into
// batches, and shuffles the order of the batches. Sentences of like length
// share a batch, so little compute goes to padding, while batches still vary
// from epoch to epoch.
//
// Evaluation: no shuffling; sorted by source length (longest first) and cut
// into batches, each remembering its sentences' original indices so
// hypotheses can be written back in corpus order.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "data/text/vocab.h"

namespace tg::text {

// One encoded sentence pair, without <bos>/<eos>.
struct Example {
  std::vector<int64_t> src;
  std::vector<int64_t> tgt;
};

struct Batch {
  Tensor src;          // (S, B) int64, padded with pad_id; S = longest source
  Tensor src_lengths;  // (B) int64
  Tensor src_mask;     // (B, S) bool, true on real tokens
  Tensor tgt_in;       // (T, B) int64: <bos> y1 .. yn, padded; T = longest target + 1
  Tensor tgt_out;      // (T, B) int64: y1 .. yn <eos>, padded
  Tensor tgt_lengths;  // (B) int64: n + 1 (the tokens of tgt_out that count)
  int64_t num_tgt_tokens = 0;   // sum of tgt_lengths: the tokens the loss averages over
  std::vector<int64_t> indices;  // example i of the batch is examples[indices[i]]
  int64_t size() const { return static_cast<int64_t>(indices.size()); }
  // The batch with src, src_mask, tgt_in and tgt_out on `device`, where the
  // model is. The lengths stay on the host, as PyTorch keeps them: they are
  // only read as numbers (padding masks, decoding limits), and reading them
  // back from a GPU would wait for it.
  Batch to(Device device) const;
};

// The flat positions t·B + b of a batch's target tokens (N) int64, ascending, on tgt_out's device: where tgt_out
// is not padding (read on the host), or, with tgt_out on another device, t < tgt_lengths[b] (the host's lengths:
// nothing read back). A loss computes its output layer at these rows alone.
Tensor target_rows(const Batch& batch);

struct BatchOptions {
  int64_t batch_size = 64;    // sentences per batch (at most)
  int64_t max_tokens = 0;     // > 0: also keep B * max(S, T) at most this (a longer sentence gets a batch alone)
  bool bucket = true;         // sort pools by length; false: batches of the shuffled order
  int64_t pool_batches = 100;  // pool size for bucketing, in batches
  uint64_t seed = 0;
};

// Removes pairs whose source or target has more than max_len tokens (not
// counting <bos>/<eos>); returns how many were removed.
int64_t drop_long_examples(std::vector<Example>& examples, int64_t max_len);

// The batches of one training epoch, as lists of example indices.
std::vector<std::vector<int64_t>> plan_epoch(const std::vector<Example>& examples, const BatchOptions& options,
                                             uint64_t epoch);
// Evaluation order: all examples once, longest source first (ties in corpus order).
std::vector<std::vector<int64_t>> plan_eval(const std::vector<Example>& examples, int64_t batch_size);

// The target tokens make_batch counts for these examples (each target and its
// <eos>: Batch::num_tgt_tokens), without making the batch.
int64_t target_tokens(const std::vector<Example>& examples, const std::vector<int64_t>& indices);

// The tensors of one batch; rows in the order of `indices`.
Batch make_batch(const std::vector<Example>& examples, const std::vector<int64_t>& indices,
                 int64_t pad_id = Vocab::pad_id, int64_t bos_id = Vocab::bos_id, int64_t eos_id = Vocab::eos_id);

// Share of padding in a plan: padded positions / all positions, over the
// source tensors (S x B) and target tensors (T x B) together.
double padding_fraction(const std::vector<Example>& examples, const std::vector<std::vector<int64_t>>& plan);

// The pairs of `sources`/`targets` (token lists) encoded with two vocabularies.
std::vector<Example> encode_pairs(const std::vector<std::vector<std::string>>& sources,
                                  const std::vector<std::vector<std::string>>& targets, const Vocab& src_vocab,
                                  const Vocab& tgt_vocab);

}  // namespace tg::text
