#pragma once
// The options that make a run what it is (seed, batch size, dropout, lr,
// schedule, model sizes): bound to the program's own variables, written into
// last.safetensors as "setting.<flag>" and, on --resume, read back into those
// variables, so the run goes on as it began. A value given on the command line
// that differs from the run's is said, not used silently:
//
//   note: --lr 0.01 differs from the run's 0.001; the run's is used (start a new run to change it)
//
//   tg::train::RunSettings settings;
//   settings.bind("--lr", options.lr, cmd->count("--lr") > 0);
//   settings.bind("--schedule", options.schedule, cmd->count("--schedule") > 0);
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/checkpoint.h"  // nn::Metadata

namespace tg::train {

class RunSettings {
 public:
  // `given`: set on this command line (only those are compared on resume).
  void bind(const std::string& flag, int& variable, bool given = false);
  void bind(const std::string& flag, int64_t& variable, bool given = false);
  void bind(const std::string& flag, uint64_t& variable, bool given = false);
  void bind(const std::string& flag, double& variable, bool given = false);
  void bind(const std::string& flag, std::string& variable, bool given = false);

  // A run saved before `flag` existed ran as if it were `value`: resuming one
  // sets the variable to it instead of refusing the file (call after bind).
  void absent_means(const std::string& flag, const std::string& value);

  // "setting.<flag>" = the variable's value, for every bound variable.
  void write_to(nn::Metadata& metadata) const;
  // Sets every bound variable from `metadata` (a run's last checkpoint at
  // `path`); returns a note for each given value that differed. Throws
  // naming the file and the flag when one is missing or unreadable.
  std::vector<std::string> restore_from(const nn::Metadata& metadata, const std::string& path);

  // "--lr 0.001, --seed 1, ..." (the run's line).
  std::string summary() const;

 private:
  struct Entry {
    std::string flag;
    std::function<std::string()> text;           // the variable as saved
    std::function<bool(const std::string&)> set;  // false: not a value of the variable's type
    bool given = false;
    std::string absent;  // the value of a run saved before the flag existed ("": none, refused)
  };
  std::vector<Entry> entries_;
};

}  // namespace tg::train
