#pragma once
// A training run's folder, claimed for as long as the run writes to it.
//
// Claiming it, before any data is read or any step is taken:
//   - creates the folder and a lock file in it (`.lock`, holding the owner's
//     pid), so a folder that cannot be written is reported at once rather than
//     at the first save;
//   - takes an exclusive lock on that file (flock): a second run on the same
//     folder fails at once, naming the first's pid; the lock goes with the
//     process, however it ends;
//   - for a fresh run, refuses a folder that holds another run's files
//     (`run_files`, e.g. last.safetensors) unless `overwrite` is set, in which
//     case those files are removed, so nothing of the old run mixes with the new.
#include <string>
#include <vector>

namespace tg::train {

struct RunDirectoryOptions {
  bool resume = false;     // the run continues the folder's own files
  bool overwrite = false;  // a fresh run may replace the folder's files
  std::vector<std::string> run_files;  // names inside the folder that make up a run; shell patterns ("epoch-*.safetensors")
  std::string program = "train";       // names the program in errors ("translate train")
  std::string overwrite_flag = "--overwrite", resume_flag = "--resume";
};

class RunDirectory {
 public:
  RunDirectory(const std::string& dir, const RunDirectoryOptions& options);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::string& dir() const { return dir_; }

 private:
  // After the lock: the pid written, and a fresh run's refusal or removal of the old run's files.
  void check_run_files(const RunDirectoryOptions& options);

  std::string dir_;
  int lock_fd_ = -1;
};

// A file a program or run will write, checked before any work so that a typo
// costs nothing and nothing saved is lost: its folder must exist and be
// writable, and a file already there is replaced only when `overwrite`.
//   check_output_file("runs/avg.safetensors", "--out", overwrite)
void check_output_file(const std::string& path, const std::string& flag, bool overwrite);

}  // namespace tg::train
