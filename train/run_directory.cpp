#include "train/run_directory.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "core/services/error.h"

namespace tg::train {

namespace {

// The pid written in the lock file by its holder, or "" when unreadable.
std::string lock_holder(int fd) {
  char text[32] = {};
  const ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
  std::string pid(text, n > 0 ? static_cast<size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

// The place of the first of options.run_files `name` matches: the order files are listed in.
size_t pattern_rank(const RunDirectoryOptions& options, const std::string& name) {
  for (size_t i = 0; i < options.run_files.size(); ++i)
    if (::fnmatch(options.run_files[i].c_str(), name.c_str(), 0) == 0) return i;
  return options.run_files.size();
}

}  // namespace

RunDirectory::RunDirectory(const std::string& dir, const RunDirectoryOptions& options) : dir_(dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{}: cannot create the run folder '{}': {}", options.program, dir, ec.message());
  if (!fs::is_directory(dir, ec)) fail("{}: '{}' exists and is not a folder", options.program, dir);

  const std::string lock_path = (fs::path(dir) / ".lock").string();
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    fail("{}: cannot write in the run folder '{}' ({}: {}); checkpoints could not be saved there: choose another "
         "folder or make it writable",
         options.program, dir, lock_path, std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = lock_holder(lock_fd_);
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (error == EWOULDBLOCK)
      fail("{}: another run{} is writing to '{}'; wait for it to end, or choose another folder", options.program,
           holder.empty() ? std::string() : " (pid " + holder + ")", dir);
    fail("{}: cannot lock '{}': {}", options.program, lock_path, std::strerror(error));
  }
  try {
    check_run_files(options);
  } catch (...) {
    ::close(lock_fd_);  // a refused claim holds nothing
    lock_fd_ = -1;
    throw;
  }
}

void RunDirectory::check_run_files(const RunDirectoryOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string& dir = dir_;
  const std::string lock_path = (fs::path(dir) / ".lock").string();
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    fail("{}: cannot write in the run folder '{}' ({}: {})", options.program, dir, lock_path, std::strerror(errno));

  if (options.resume) return;
  std::vector<std::string> present;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    for (const std::string& pattern : options.run_files)
      if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) {
        present.push_back(name);
        break;
      }
  }
  std::sort(present.begin(), present.end(), [&](const std::string& a, const std::string& b) {
    return pattern_rank(options, a) < pattern_rank(options, b) || (pattern_rank(options, a) == pattern_rank(options, b) && a < b);
  });
  if (present.empty()) return;
  if (!options.overwrite) {
    std::string list;
    for (const std::string& name : present) list += (list.empty() ? "" : ", ") + name;
    fail("{}: '{}' holds a run already ({}); continue it with {}, replace it with {}, or choose another folder",
         options.program, dir, list, options.resume_flag, options.overwrite_flag);
  }
  for (const std::string& name : present) {
    fs::remove(fs::path(dir) / name, ec);
    if (ec) fail("{}: cannot remove '{}' to start again: {}", options.program, (fs::path(dir) / name).string(), ec.message());
  }
}

RunDirectory::~RunDirectory() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock; the file stays, empty of meaning
}

void check_output_file(const std::string& path, const std::string& flag, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!fs::is_directory(parent, ec)) fail("{} '{}': the folder '{}' does not exist", flag, path, parent.string());
  if (fs::is_directory(path, ec)) fail("{} '{}' is a folder; give a file name", flag, path);
  const bool exists = fs::exists(path, ec);
  if (exists && !overwrite)
    fail("{} '{}' already exists; pass --overwrite to replace it, or choose another file", flag, path);
  if (::access(parent.c_str(), W_OK) != 0 || (exists && ::access(path.c_str(), W_OK) != 0))
    fail("{} '{}': cannot write there (permission denied)", flag, path);
}

}  // namespace tg::train
