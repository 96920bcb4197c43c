#pragma once
// Checkpoints of a module: its parameters and buffers (state_dict()) in one safetensors file.
//
//   file tensors   "<parameter or buffer name>"  e.g. "encoder.embed.weight"
//   metadata       "format"  "tapegrad.checkpoint.v1"
//                  and the caller's own string pairs
//
// The same file format carries a training run's optimizer and schedule state
// (train/training_checkpoint.h) under the reserved key prefixes "optimizer." and
// "schedule."; loading a module from such a file reads its parameters and
// leaves that state alone, so a training checkpoint also serves inference.
//
// Loading checks everything before changing anything: with strict (the
// default) one tg::Error lists every missing key, every unexpected key and
// every shape or dtype mismatch, and every parameter holding NaN or inf. Without strict, missing and unexpected keys
// are allowed (as PyTorch's strict=False) but mismatches are still errors.
// Parameters are overwritten in place, without recording on the tape.
// A tied tensor (one tensor under two names, `out.weight = embed.weight;`) is
// written once, under its first name; a file that holds it under several of
// its names (a PyTorch state_dict does) loads when those entries hold the same
// values, and is refused, naming them, when they differ.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/safetensors.h"
#include "nn/module.h"

namespace tg::nn {

using Metadata = std::map<std::string, std::string>;

struct LoadOptions {
  bool strict = true;
  // A parameter holding NaN or ±inf is refused, naming it: such a file comes
  // from a diverged run or a damaged file, and would give silent garbage.
  bool allow_non_finite = false;
};

// Writes the module's parameters and buffers. Metadata keys "format", "optimizer.*" and
// "schedule.*", "scaler.*" and "generator.*" are reserved.
void save(const Module& module, const std::string& path, const Metadata& metadata = {});

// Reads parameters and buffers into `module` (a file's optimizer state is ignored here).
// Returns the caller's metadata (reserved keys removed).
Metadata load(Module& module, const std::string& path, LoadOptions options = {});

// ---- the pieces save and load are made of, for files that hold more (train/training_checkpoint.h) ----

inline constexpr const char* kCheckpointFormat = "tapegrad.checkpoint.v1";
inline constexpr std::string_view kOptimizerPrefix = "optimizer.";
inline constexpr std::string_view kSchedulePrefix = "schedule.";

// "format", "optimizer.*" or "schedule.*".
bool is_reserved_key(const std::string& key);

// The file's contents for the module: its parameters, "format", and the
// caller's metadata (reserved keys rejected, naming `path`).
SafetensorsContents checkpoint_contents(const Module& module, const std::string& path, const Metadata& metadata);

// A load whose checks have passed and whose copies are still to be done, so
// that a caller can check more (an optimizer's state) before anything changes.
class CheckedLoad {
 public:
  // Copies the file's tensors into the parameters (onto their devices).
  void apply() const;
  // The caller's metadata of the file (reserved keys removed).
  const Metadata& metadata() const { return metadata_; }

 private:
  friend CheckedLoad check_load(const Module&, const SafetensorsContents&, const std::string&, LoadOptions);
  std::vector<std::pair<Tensor, Tensor>> copies_;  // (parameter, file tensor)
  Metadata metadata_;
};

// Checks the file's format and its tensors against the module's parameters
// (tensors under "optimizer." are not the module's when the file holds an
// optimizer's state); throws one tg::Error naming `path` and every problem.
CheckedLoad check_load(const Module& module, const SafetensorsContents& file, const std::string& path,
                       LoadOptions options);

}  // namespace tg::nn
