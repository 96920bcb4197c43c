#pragma once
// Where a training run is, as the harness (train/harness.h) keeps it and
// writes it into last.safetensors:
//
//   run.epoch, run.batch, run.step        epochs finished, batches of the next done, updates in all
//   run.loss_sum, run.loss_weight         the epoch's Σ loss·weight and Σ weight so far
//   run.seconds                           the epoch's training seconds so far
//   run.best                              the best validation score so far (absent before the first)
//   run.best_is_higher                    "1" when `best` was kept as higher-is-better (absent: lower)
//
// Numbers are written as the shortest text that reads back to the same
// double, so the epoch's running loss resumes exactly.
#include <cstdint>
#include <optional>
#include <string>

#include "nn/checkpoint.h"  // nn::Metadata

namespace tg::train {

struct Position {
  int64_t epoch = 0;  // epochs finished
  int64_t batch = 0;  // batches of epoch `epoch` done
  int64_t step = 0;   // updates in all
  double loss_sum = 0, loss_weight = 0;  // the epoch's Σ loss·weight and Σ weight so far
  double seconds = 0;                    // the epoch's training seconds so far
  std::optional<double> best;            // the best validation score so far
  bool best_is_higher = false;           // whether `best` was kept as higher-is-better
};

// Adds the "run.*" keys of `position` to `metadata`.
void write_run_position(const Position& position, nn::Metadata& metadata);
// The position in `metadata`; errors name `path` and the missing or unreadable key.
Position read_run_position(const nn::Metadata& metadata, const std::string& path);

}  // namespace tg::train
