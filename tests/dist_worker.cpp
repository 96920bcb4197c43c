// A small MPI program that fails on purpose, for tests/test_dist_failures.cpp,
// which starts it under mpirun and checks that every rank exits, with a clear
// message, within a bounded time:
//   dist_worker mismatch   rank N-1 has another batch size: every rank reports it
//   dist_worker throw      rank 1 throws in the middle of training-like all-reduces
//   dist_worker kill       rank 1 is killed (SIGKILL) in the middle
//   dist_worker hang       rank 1 stops calling collectives (sleeps) in the middle
// Ranks that get through 1000 all-reduces print "finished" (they should not).
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "core/tensor/creation.h"
#include "distributed/agreement.h"
#include "distributed/all_reduce.h"
#include "distributed/distributed.h"
#include "distributed/run.h"

namespace distributed = tg::distributed;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return distributed::run_ranks(argc, argv, [&]() {
    if (mode == "mismatch") {
      distributed::Fingerprint f;
      f.add("model", "cho");
      f.add("batch_size", int64_t{distributed::rank() == distributed::world_size() - 1 ? 32 : 64});
      distributed::check_same_on_all_ranks(f);
      fmt::print("finished\n");
      return 0;
    }
    if (mode != "throw" && mode != "kill" && mode != "hang") tg::fail("dist_worker: unknown mode '{}'", mode);
    const tg::Tensor gradient = tg::ones({100000});
    distributed::AllReducer reducer(65536);
    for (int step = 0; step < 1000; ++step) {
      if (distributed::rank() == 1 && step == 20) {
        if (mode == "throw") tg::fail("rank 1 failed on purpose at step {}", step);
        if (mode == "kill") std::raise(SIGKILL);
        if (mode == "hang") std::this_thread::sleep_for(std::chrono::hours(1));
      }
      reducer.reduce({gradient}, distributed::ReduceOp::mean);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    fmt::print("finished\n");
    return 0;
  });
}
