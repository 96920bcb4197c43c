#pragma once
// What data-parallel training (`mpirun -np N translate train`) needs to know
// of a translation model: a share's examples and token count, its loss, the
// ranks' dropout seeds and the setup they must agree on. The step's
// communication itself is distributed::DataParallel's (distributed/data_parallel.h), which
// examples/language_model uses too; its header explains the share loss
//   L_r = Σ_{t in share r} ℓ_t / T,   T = Σ_r T_r   (target tokens, padding excluded).
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "data/text/batching.h"
#include "distributed/agreement.h"
#include "apps/translate/models/seq2seq.h"
#include "apps/translate/translation_checkpoint.h"

namespace tg::translate {

// One rank's part of a global batch.
struct BatchShare {
  std::vector<int64_t> indices;  // this rank's examples (possibly none: a batch smaller than the world)
  int64_t global_tokens = 0;     // target tokens (with <eos>) of the whole global batch: T
};

// Counted from the examples, which every rank holds: no communication.
BatchShare batch_share(const std::vector<text::Example>& examples, const std::vector<int64_t>& global_batch, int rank,
                       int world_size);

// Σ token losses of `batch` / global_tokens, padding ignored: L_r above.
Tensor share_loss(const Seq2Seq& model, const text::Batch& batch, int64_t global_tokens, double label_smoothing = 0);

// The dropout seed of rank `rank` for a step seeded `step_seed`: each rank
// draws its own masks, reproducibly; rank 0's are a single process's.
uint64_t rank_seed(uint64_t step_seed, int rank);

// What every rank must agree on before training: the model, the settings that
// fix the batches, the vocabularies, the position (when resuming), the
// parameters' names and shapes, and the options that steer the loop. Not
// the data directory's path, which may differ between machines.
distributed::Fingerprint training_fingerprint(const CheckpointInfo& info, const Seq2Seq& model, int64_t epochs, double lr,
                                       int64_t max_steps, int64_t training_pairs);

}  // namespace tg::translate
