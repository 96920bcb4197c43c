#pragma once
// One data-parallel training step's communication, as every program that
// trains on several ranks takes it (apps/translate, apps/language_model).
//
// Every rank plans the same global batches and trains on its share of each
// (rank_share). The loss of a share is the sum of its token losses over the
// whole global batch's token count,
//   L_r = Σ_{t in share r} ℓ_t / T,   T = Σ_r T_r   (target tokens, padding excluded),
// so Σ_r L_r is the one-process mean over the global batch, and the sum of
// the ranks' gradients is its gradient: N ranks with batches of B/N make the
// update one process makes with batch B. A run meets the calls in this order:
//
//   start(fingerprint, params)   once: the same setup everywhere, rank 0's weights
//   share(global_batch)          each step: this rank's items of the batch
//   agree(share_loss, stop)      the batch's loss, and whether any rank stops
//   reduce_gradients(params)     after backward: the sum of the ranks' gradients
//   (clipping and the optimizer's step then run alike on every rank)
//   root_value(v), any(flag)     at an epoch's end: rank 0's figure, a shared flag
//
// In a world of one every call does what one process does and sends nothing.
// Needs only core's tensors, so it lives in distributed/ beside the collectives.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/tensor/tensor.h"
#include "distributed/agreement.h"
#include "distributed/all_reduce.h"

namespace tg::distributed {

class DataParallel {
 public:
  DataParallel();
  bool active() const { return world_ > 1; }   // more than one rank
  bool is_root() const { return rank_ == 0; }  // prints, validates, writes files
  int rank() const { return rank_; }
  int world_size() const { return world_; }

  // Before the first step: every rank agrees on `fingerprint` (else
  // CollectiveError on all, naming `setup`), and takes rank 0's parameters,
  // which must be on one device: the cpu, or a GPU (the collectives stage them
  // through host memory); `program` names the caller in that error.
  void start(const Fingerprint& fingerprint, const std::vector<Tensor>& params, std::string_view program,
             std::string_view setup = "the training setup");
  // This rank's items of a global batch: possibly none, for a batch smaller than the world.
  std::vector<int64_t> share(const std::vector<int64_t>& global_batch) const;
  // The global loss (Σ of the ranks' share losses) and whether any rank was asked to stop.
  struct Agreed {
    double loss = 0;
    bool stop = false;
  };
  Agreed agree(double share_loss, bool stop_requested = false);
  // After backward: the sum of the ranks' gradients in every parameter.
  void reduce_gradients(const std::vector<Tensor>& params);
  // Rank 0's value on every rank (a validation figure only rank 0 computed).
  double root_value(double value) const;
  // Whether `flag` is set on any rank.
  bool any(bool flag) const;

  double reduce_seconds() const { return reduce_seconds_; }  // time in reduce_gradients so far
  int64_t reduce_calls() const { return reduce_calls_; }
  int64_t buckets_per_call() const { return reducer_.buckets_last_call(); }

 private:
  int rank_, world_;
  AllReducer reducer_;
  double reduce_seconds_ = 0;
  int64_t reduce_calls_ = 0;
};

}  // namespace tg::distributed
