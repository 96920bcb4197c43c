#pragma once
// What the fuzz targets share: the input as bytes, a scratch file for the
// readers that take a path, and a way to stop with a message when a property
// the library promises does not hold (libFuzzer then saves the input).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/services/error.h"

namespace fuzz {

inline std::string_view bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property the library promises broke: report it and abort, which libFuzzer
// records as a crash with the input that caused it.
[[noreturn]] inline void broken(const char* what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

// A file in the temp directory, private to this process, rewritten per input
// and removed at exit.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& suffix)
      : path_((std::filesystem::temp_directory_path() /
               ("tapegrad_fuzz_" + std::to_string(::getpid()) + suffix))
                  .string()) {}
  ~ScratchFile() { std::remove(path_.c_str()); }
  const std::string& write(std::string_view content) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc).write(content.data(), static_cast<std::streamsize>(content.size()));
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// f()'s value, or nullopt when f throws tg::Error: a clear error is an
// outcome the library allows; anything else (a crash, another exception) is not.
template <typename F>
auto value_or_error(F&& f) -> std::optional<decltype(f())> {
  try {
    return f();
  } catch (const tg::Error&) {
    return std::nullopt;
  }
}

// `text` cut at every `separator` (n separators give n + 1 pieces).
inline std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> pieces;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == separator) {
      pieces.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  return pieces;
}

}  // namespace fuzz
