#pragma once
// Where the Multi30k data set is. Every program, benchmark and test that
// reads it asks here, so the places and their order are written once:
//
//   1. `flag`, a program's --data-dir, when not empty;
//   2. $MULTI30K_DIR, when set and not empty;
//   3. ../shared/data/multi30k, from the current directory;
//   4. data/multi30k, from the current directory (where scripts/get_multi30k.sh
//      put it before it moved out of the source tree);
//   5. multi30k_cache_dir(), where scripts/get_multi30k.sh puts it now;
//   6. `more_places`, in order (the tests add the shared copy beside the
//      source tree, wherever they run from).
//
// An explicit choice (1 or 2) is returned as given, never second-guessed: the
// reader's error then names the file it lacks. Of the others, the first that
// is a directory is returned; when none is, tg::Error lists every place tried.
#include <string>
#include <vector>

namespace tg::text {

std::string find_multi30k_dir(const std::string& flag = "", const std::vector<std::string>& more_places = {});

// ${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad/multi30k, as the scripts spell it;
// "" when neither variable is set.
std::string multi30k_cache_dir();

}  // namespace tg::text
