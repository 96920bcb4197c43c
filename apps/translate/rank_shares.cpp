#include "apps/translate/rank_shares.h"

#include <fmt/format.h>

#include "core/services/error.h"
#include "core/services/generator.h"
#include "distributed/shard.h"
#include "ops/div.h"

namespace tg::translate {

BatchShare batch_share(const std::vector<text::Example>& examples, const std::vector<int64_t>& global_batch, int rank,
                       int world_size) {
  BatchShare share;
  share.indices = distributed::rank_share(global_batch, rank, world_size);
  share.global_tokens = text::target_tokens(examples, global_batch);
  return share;
}

Tensor share_loss(const Seq2Seq& model, const text::Batch& batch, int64_t global_tokens, double label_smoothing) {
  if (global_tokens < batch.num_tgt_tokens)
    fail("share_loss: the global batch has {} target tokens, fewer than this share's {}", global_tokens,
         batch.num_tgt_tokens);
  return model.loss(batch, {.label_smoothing = label_smoothing, .reduction = Reduction::sum}) /
         static_cast<double>(global_tokens);
}

uint64_t rank_seed(uint64_t step_seed, int rank) {
  if (rank == 0) return step_seed;
  Generator mixer(step_seed ^ (0xD1B54A32D192ED03ULL * static_cast<uint64_t>(rank)));
  return mixer.next_u64();
}

distributed::Fingerprint training_fingerprint(const CheckpointInfo& info, const Seq2Seq& model, int64_t epochs, double lr,
                                       int64_t max_steps, int64_t training_pairs) {
  distributed::Fingerprint f;  // one entry per setting, so that a difference names it
  const ModelConfig& c = info.config;
  f.add("model", c.kind);
  f.add("cell", c.cell);
  f.add("tie-embeddings", std::string_view(c.tie_embeddings ? "true" : "false"));
  f.add("embed", c.embed);
  f.add("hidden", c.hidden);
  f.add("dropout", c.dropout);
  const TrainSettings& s = info.settings;
  f.add("seed", std::to_string(s.seed));
  f.add("batch-size", s.batch_size);
  f.add("max-len", s.max_len);
  f.add("label-smoothing", s.label_smoothing);
  f.add("min-freq", s.min_freq);
  f.add("limit-train", s.limit_train);
  f.add("clip", s.clip);
  f.add("lr-schedule", s.lr_schedule);
  f.add("warmup-steps", s.warmup_steps);
  f.add("min-lr", s.min_lr);
  f.add("schedule-steps", s.schedule_steps);
  f.add("precision", s.precision);
  f.add("epochs", epochs);
  f.add("lr", lr);
  f.add("max-steps", max_steps);
  f.add("training pairs", training_pairs);  // after --max-len; the directory may differ between machines
  f.add_hashed("source vocabulary", info.src_vocab.tokens());
  f.add_hashed("target vocabulary", info.tgt_vocab.tokens());
  const train::Position& p = info.position;
  f.add("position", fmt::format("epoch {} batch {} step {}", p.epoch, p.batch, p.step));
  f.add_shapes("parameters", model.named_parameters());
  return f;
}

}  // namespace tg::translate
