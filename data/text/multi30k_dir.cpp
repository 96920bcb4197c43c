#include "data/text/multi30k_dir.h"

#include <cstdlib>
#include <filesystem>

#include "core/error.h"

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

std::string find_multi30k_dir(const std::string& flag, const std::vector<std::string>& more_places) {
  if (!flag.empty()) return flag;
  if (const std::string env = environment("MULTI30K_DIR"); !env.empty()) return env;

  std::vector<std::string> places = {"../shared/data/multi30k", "data/multi30k"};
  if (const std::string cache = multi30k_cache_dir(); !cache.empty()) places.push_back(cache);
  places.insert(places.end(), more_places.begin(), more_places.end());
  std::error_code ec;
  for (const std::string& place : places)
    if (std::filesystem::is_directory(place, ec)) return place;

  std::string tried;
  for (const std::string& place : places) tried += (tried.empty() ? "'" : ", '") + place + "'";
  const std::filesystem::path here = std::filesystem::current_path(ec);
  fail("Multi30k not found: no --data-dir given, $MULTI30K_DIR not set, and none of {} is a directory (relative "
       "ones from '{}'); run scripts/get_multi30k.sh, which puts it in '{}', or name the directory with --data-dir "
       "or $MULTI30K_DIR",
       tried, here.string(), multi30k_cache_dir().empty() ? "$XDG_CACHE_HOME/tapegrad/multi30k" : multi30k_cache_dir());
}

}  // namespace tg::text
