#include "io/text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/services/error.h"

namespace tg {

void write_text_file(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail("cannot open '{}' for writing ('{}': {})", path, tmp, std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int write_error = errno;
  if (std::fclose(f) != 0 || !written) {
    const int err = written ? errno : write_error;
    std::remove(tmp.c_str());
    fail("cannot write '{}' ('{}': {})", path, tmp, std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail("cannot write '{}': renaming '{}' over it failed: {}", path, tmp, std::strerror(err));
  }
}

}  // namespace tg
