#pragma once
// Training a translation model on Multi30k (the `translate train` command).
//
// Every step: reseed dropout from (seed, global step), forward with teacher
// forcing, token-level cross entropy, backward, clip the gradient norm, Adam.
// Every epoch: validation loss, perplexity and greedy BLEU; best.safetensors
// (model only) when BLEU improves, last.safetensors (model + optimizer +
// position) always, metrics.csv and curve.svg beside them; with the first
// checkpoint, language_id.json, the language identifier translate serve
// answers /detect with (serve/language_id.h), learned from the training sides.
//
// It runs on the training harness (train/harness.h), as every program that
// trains: the checkpoint folder is claimed before anything else (locked
// against a second run, checked writable, and, for a fresh run, refused when
// it holds a run already unless `overwrite`); stopping (the stop flag, set by
// Ctrl-C or SIGTERM, or max_steps) happens at a batch boundary and writes
// last.safetensors with the exact position, and resuming replays the same
// epoch plan (plan_epoch(seed, epoch)), skips the batches done and restores
// the optimizer, so the losses continue exactly as an uninterrupted run's; a
// non-finite loss or gradient norm (the two numbers each step reads back
// anyway) stops training before that step's update, naming the epoch, the
// step and the last good checkpoint; parameters are checked before every save.
// The checkpoints hold translate's metadata (translation_checkpoint.h), the
// run's position in the harness's keys (train/position.h) among it.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/services/profiler.h"
#include "apps/translate/models/seq2seq.h"
#include "data/text/subword.h"
#include "plot/svg.h"  // plot::EpochMetrics, a row of metrics.csv
#include "apps/translate/translation_checkpoint.h"

namespace tg::translate {

struct TrainOptions {
  ModelConfig model;  // kind, embed, hidden, dropout (vocabulary sizes come from the data)
  TrainSettings settings;
  // Vocabularies of a fresh run (a resumed run keeps its checkpoint's): "word"
  // (the lc.norm.tok words) or "subword" (SentencePiece models trained on the
  // raw training text, one per language or one `joint_subword` model for both).
  std::string vocab = "word";
  text::SubwordOptions subword;
  bool joint_subword = false;
  int64_t epochs = 10;
  double lr = 1e-3;
  std::string data_dir;        // "" = text::find_multi30k_dir's search
  std::string checkpoint_dir;  // "" = runs/<model kind>
  bool resume = false;         // continue from checkpoint_dir/last.safetensors
  bool overwrite = false;      // a fresh run may replace the run found in checkpoint_dir (else: refused)
  int64_t limit_val = 0;       // 0: the whole validation set
  int64_t max_steps = 0;       // > 0: stop once this many optimizer steps are done in all
  int64_t eval_beam = 1;       // beam for the per-epoch validation BLEU; 1 = greedy
  bool keep_epochs = false;    // also write epoch-N.safetensors (model only) after each epoch, for averaging
  Device device = Device::cpu();  // where the model trains; not in the checkpoint, so a run may resume elsewhere
  // Profile the ops of the training steps (tg::Profiler), leaving out the
  // first profile_warmup steps of this run (caches, allocator, thread pool
  // warming up), and print the table when training ends or stops.
  bool profile = false;
  int64_t profile_warmup = 3;
};

struct TrainHooks {
  const std::atomic<bool>* stop = nullptr;            // polled after every step
  std::function<void(int64_t step, double loss)> on_step;  // after every step (1-based step)
  // Tests: after backward, before clipping and the update (1-based step), to inject a non-finite gradient.
  std::function<void(int64_t step, const std::vector<Tensor>& params)> after_backward;
  std::FILE* out = stdout;                            // progress and reports; nullptr: silent
  bool terminal = false;                              // progress bar in place ("\r") or plain lines
};

struct TrainResult {
  std::vector<double> losses;  // the loss of every step this call ran, in order
  int64_t steps = 0;           // the global step count at the end
  bool stopped = false;        // stopped early (flag or max_steps) with last.safetensors written
  std::string checkpoint_dir;
  std::vector<plot::EpochMetrics> metrics;  // every epoch finished so far (from metrics.csv on resume)
  std::vector<ProfileRow> profile;    // with options.profile: per op, over profiled_steps steps
  int64_t profiled_steps = 0;
};

TrainResult train(const TrainOptions& options, const TrainHooks& hooks = {});

// The dropout seed of global step `step`: the same on every run with `seed`.
uint64_t step_seed(uint64_t seed, int64_t step);

// The run's metrics.csv, as the training harness writes it, read back by column name (the curve, resuming).
std::vector<plot::EpochMetrics> read_metrics_csv(const std::string& path);

}  // namespace tg::translate
