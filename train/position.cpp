#include "train/position.h"

#include <fmt/format.h>

#include "core/services/error.h"
#include "train/training_checkpoint.h"

namespace tg::train {

void write_run_position(const Position& p, nn::Metadata& metadata) {
  metadata["run.epoch"] = std::to_string(p.epoch);
  metadata["run.batch"] = std::to_string(p.batch);
  metadata["run.step"] = std::to_string(p.step);
  metadata["run.loss_sum"] = fmt::format("{}", p.loss_sum);  // shortest exact text
  metadata["run.loss_weight"] = fmt::format("{}", p.loss_weight);
  metadata["run.seconds"] = fmt::format("{}", p.seconds);
  if (p.best) metadata["run.best"] = fmt::format("{}", *p.best);
  if (p.best_is_higher) metadata["run.best_is_higher"] = std::to_string(1);
}

Position read_run_position(const nn::Metadata& metadata, const std::string& path) {
  Position p;
  p.epoch = metadata_integer(metadata, "run.epoch", path);
  p.batch = metadata_integer(metadata, "run.batch", path);
  p.step = metadata_integer(metadata, "run.step", path);
  p.loss_sum = metadata_number(metadata, "run.loss_sum", path);
  p.loss_weight = metadata_number(metadata, "run.loss_weight", path);
  p.seconds = metadata_number(metadata, "run.seconds", path);
  if (metadata.contains("run.best")) p.best = metadata_number(metadata, "run.best", path);
  p.best_is_higher = metadata.contains("run.best_is_higher") && metadata.at("run.best_is_higher") == "1";
  if (p.epoch < 0 || p.batch < 0 || p.step < 0 || p.loss_weight < 0)
    fail("{}: the run's position (epoch {}, batch {}, step {}) is not one a run reaches", path, p.epoch, p.batch, p.step);
  return p;
}

}  // namespace tg::train
