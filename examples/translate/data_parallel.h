#pragma once
// Data-parallel training of a translation model (`mpirun -np N translate
// train`, tg::dist). Every rank plans the same global batches and trains on
// its share of each (dist::rank_share). The loss of a share is the sum of its
// token losses over the whole global batch's token count,
//   L_r = Σ_{t in share r} ℓ_t / T,   T = Σ_r T_r   (target tokens, padding excluded),
// so Σ_r L_r is the one-process mean over the global batch, and the sum of
// the ranks' gradients (dist::AllReducer) is its gradient: N ranks with
// batches of B/N make the update one process makes with batch B.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/batching.h"
#include "dist/agreement.h"
#include "dist/all_reduce.h"
#include "seq2seq/seq2seq.h"
#include "translation_checkpoint.h"

namespace tg::translate {

// One rank's part of a global batch.
struct BatchShare {
  std::vector<int64_t> indices;  // this rank's examples (possibly none: a batch smaller than the world)
  int64_t global_tokens = 0;     // target tokens (with <eos>) of the whole global batch: T
};

// Counted from the examples, which every rank holds: no communication.
BatchShare batch_share(const std::vector<data::Example>& examples, const std::vector<int64_t>& global_batch, int rank,
                       int world_size);

// Σ token losses of `batch` / global_tokens, padding ignored: L_r above.
Tensor share_loss(const Seq2Seq& model, const data::Batch& batch, int64_t global_tokens);

// The dropout seed of rank `rank` for a step seeded `step_seed`: each rank
// draws its own masks, reproducibly; rank 0's are a single process's.
uint64_t rank_seed(uint64_t step_seed, int rank);

// What every rank must agree on before training: the model, the settings that
// fix the batches, the vocabularies, the position (when resuming), the
// parameters' names and shapes, and the options that steer the loop. Not
// the data directory's path, which may differ between machines.
dist::Fingerprint training_fingerprint(const CheckpointInfo& info, const Seq2Seq& model, int64_t epochs, double lr,
                                       int64_t max_steps, int64_t training_pairs);

// What `translate train` does differently as one of several ranks, in the
// order a run meets it. In a world of one every call does what one process
// did before and sends nothing.
class DataParallel {
 public:
  DataParallel();
  bool active() const { return world_ > 1; }  // more than one rank
  bool is_root() const { return rank_ == 0; }  // prints, validates, writes files
  int rank() const { return rank_; }
  int world_size() const { return world_; }

  // Before the first step: every rank agrees on `fingerprint` (else
  // dist::CollectiveError on all) and takes rank 0's parameters.
  void start(const dist::Fingerprint& fingerprint, const std::vector<Tensor>& params);
  // This rank's examples of a global batch and the batch's token count.
  BatchShare share(const std::vector<data::Example>& examples, const std::vector<int64_t>& global_batch) const;
  // After the forward pass: the global loss (Σ of the ranks' share losses)
  // and whether any rank was asked to stop.
  struct Agreed {
    double loss = 0;
    bool stop = false;
  };
  Agreed agree(double share_loss_value, bool stop_requested);
  // After backward: the sum of the ranks' gradients in every parameter.
  void reduce_gradients(const std::vector<Tensor>& params);
  // At the end of an epoch: rank 0's validation BLEU on every rank (for the
  // schedule and the best checkpoint), and whether any rank was asked to stop.
  double share_bleu(double bleu) const;
  bool any(bool flag) const;

  double reduce_seconds() const { return reduce_seconds_; }  // time in reduce_gradients so far
  int64_t reduce_calls() const { return reduce_calls_; }
  int64_t buckets_per_call() const { return reducer_.buckets_last_call(); }

 private:
  int rank_, world_;
  dist::AllReducer reducer_;
  double reduce_seconds_ = 0;
  int64_t reduce_calls_ = 0;
};

}  // namespace tg::translate
