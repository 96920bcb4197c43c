#include "data/text/multi30k_dir.h"

#include <cstdlib>
#include <filesystem>

#include "core/services/error.h"

namespace tg::text {

namespace {

// The variable's value, or "" when it is unset or empty (as the shell's ${VAR:-...}).
std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

}  // namespace

std::string multi30k_cache_dir() {
  std::string cache = environment("XDG_CACHE_HOME");
  if (cache.empty() && !environment("HOME").empty()) cache = environment("HOME") + "/.cache";
  return cache.empty() ? "" : cache + "/tapegrad/multi30k";
}

std::string find_multi30k_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const std::string env = environment("MULTI30K_DIR"); !env.empty()) return env;
  const std::string cache = multi30k_cache_dir();
  std::error_code ec;
  if (!cache.empty() && std::filesystem::is_directory(cache, ec)) return cache;
  fail("Multi30k not found: no --data-dir given, $MULTI30K_DIR not set, and the download cache '{}' is not a "
       "directory; run scripts/get_multi30k.sh, which puts it there, or name the directory with --data-dir or "
       "$MULTI30K_DIR",
       cache.empty() ? "$XDG_CACHE_HOME/tapegrad/multi30k" : cache);
}

}  // namespace tg::text
