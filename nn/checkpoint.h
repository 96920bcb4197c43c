#pragma once
// Checkpoints: a module's parameters, and optionally an optimizer's state and
// a learning-rate schedule's counters, in one safetensors file.
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
//
// Loading checks everything before changing anything: with strict (the
// default) one tg::Error lists every missing key, every unexpected key and
// every shape or dtype mismatch. Without strict, missing and unexpected keys
// are allowed (as PyTorch's strict=False) but mismatches are still errors.
// Parameters are overwritten in place, without recording on the tape.
#include <map>
#include <string>

#include "nn/module.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

namespace tg::nn {

using Metadata = std::map<std::string, std::string>;

struct LoadOptions {
  bool strict = true;
};

// Writes the module's parameters. Metadata keys "format", "optimizer.*" and
// "schedule.*" are reserved.
void save(const Module& module, const std::string& path, const Metadata& metadata = {});
// Writes parameters, the optimizer's state and, when given, the schedule's counters.
void save(const Module& module, const optim::Optimizer& optimizer, const std::string& path,
          const Metadata& metadata = {}, const optim::LRSchedule* schedule = nullptr);

// Reads parameters into `module` (a file's optimizer state is ignored here).
// Returns the caller's metadata (reserved keys removed).
Metadata load(Module& module, const std::string& path, LoadOptions options = {});
// Reads parameters, the optimizer's state and, when given, the schedule's counters.
Metadata load(Module& module, optim::Optimizer& optimizer, const std::string& path, LoadOptions options = {},
              optim::LRSchedule* schedule = nullptr);

}  // namespace tg::nn
