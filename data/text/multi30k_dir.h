#pragma once
// Where the Multi30k data set is. Every program, benchmark and test that
// reads it asks here, so the places and their order are written once:
//
//   1. `flag`, a program's --data-dir, when not empty;
//   2. $MULTI30K_DIR, when set and not empty;
//   3. multi30k_cache_dir(), where scripts/get_multi30k.sh puts it.
//
// The library knows no place of any particular checkout or machine: the
// scripts (scripts/test.sh, scripts/translate-demo.sh) name a local copy
// through $MULTI30K_DIR.
//
// An explicit choice (1 or 2) is returned as given, never second-guessed: the
// reader's error then names the file it lacks. The cache is returned when it
// is a directory; otherwise tg::Error says what was tried and how to get it.
#include <string>

namespace tg::text {

std::string find_multi30k_dir(const std::string& flag = "");

// ${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad/multi30k, as the scripts spell it;
// "" when neither variable is set.
std::string multi30k_cache_dir();

}  // namespace tg::text
