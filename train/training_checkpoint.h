#pragma once
// Training checkpoints: a module's parameters (nn/checkpoint.h), an
// optimizer's state and optionally a learning-rate schedule's counters, in
// one safetensors file, so that a run resumes exactly where it stopped.
//
//   file tensors   "<parameter name>"            e.g. "encoder.embed.weight"
//                  "optimizer.<param>.<buffer>"  e.g. "optimizer.encoder.embed.weight.exp_avg"
//   metadata       "format"         "tapegrad.checkpoint.v1"
//                  "optimizer.type" "Adam";  "optimizer.lr", "optimizer.<param>.step"
//                  "schedule.type"  "StepLR"; "schedule.<counter>"
//                  and the caller's own string pairs
//
// Optimizer parameters are keyed by the optimizer's names: build the optimizer
// from module.named_parameters() (or the same vector of tensors, numbered) both
// when saving and when resuming. Numbers are written with the shortest
// representation that reads back to the same double, so resuming is exact.
// nn::load reads the parameters of such a file for inference.
//
// Loading checks the parameters, the optimizer's state and the schedule's
// before changing anything (nn/checkpoint.h says how strict works), and
// refuses a file holding a non-finite value (nan, inf) in any of them: a run
// never resumes from a state it could not have saved.
#include <string>
#include <utility>
#include <vector>

#include "core/services/generator.h"

#include "nn/checkpoint.h"
#include "nn/module.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "train/grad_scaler.h"

namespace tg::train {

// What else a run draws on and must find again when it resumes:
//   metadata   "scaler.<key>"     the loss scaler's scale and good steps (fp16)
//              "generator.<name>" a random stream drawn outside the model (Generator::get_state)
struct ExtraState {
  GradScaler* scaler = nullptr;
  std::vector<std::pair<std::string, Generator*>> generators;  // (name, stream)
};

// Writes parameters, the optimizer's state and, when given, the schedule's
// counters and the extra state.
void save(const nn::Module& module, const optim::Optimizer& optimizer, const std::string& path,
          const nn::Metadata& metadata = {}, const optim::LRSchedule* schedule = nullptr,
          const ExtraState& extra = {});

// Reads parameters, the optimizer's state and, when given, the schedule's
// counters and the extra state (each must be in the file, else an error names
// it). Returns the caller's metadata (reserved keys removed).
nn::Metadata load(nn::Module& module, optim::Optimizer& optimizer, const std::string& path,
                  nn::LoadOptions options = {}, optim::LRSchedule* schedule = nullptr, const ExtraState& extra = {});

// A number of a checkpoint's metadata: the whole text a finite number, else
// an error naming the file, the key and what it holds ("... has no 'epoch' in
// its metadata", "... metadata 'channels' is 'abc', not a number").
double metadata_number(const nn::Metadata& metadata, const std::string& key, const std::string& path);
// The same, a whole number.
int64_t metadata_integer(const nn::Metadata& metadata, const std::string& key, const std::string& path);

}  // namespace tg::train
