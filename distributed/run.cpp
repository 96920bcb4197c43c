#include "distributed/run.h"

#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "distributed/distributed.h"

namespace tg::distributed {

int run_ranks(int& argc, char**& argv, const std::function<int()>& body) {
  std::string failure;
  try {
    Session session(argc, argv);
    try {
      return body();
    } catch (const CollectiveError& e) {
      std::fflush(stdout);
      // Every rank holds the same message; each says it, so a log per rank shows why it stopped.
      if (world_size() == 1) fmt::print(stderr, "error: {}\n", e.what());
      else fmt::print(stderr, "error (rank {} of {}): {}\n", rank(), world_size(), e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fflush(stdout);
      if (world_size() > 1) abort_job(fmt::format("error: {}; stopping every rank", e.what()));
      failure = e.what();
    }
  } catch (const std::exception& e) {  // the Session itself
    failure = e.what();
  }
  fmt::print(stderr, "error: {}\n", failure);
  return 1;
}

}  // namespace tg::distributed
