// main() of the doctest programs that run as several MPI ranks (mpirun -np N):
// every rank runs every test case, whose collectives meet across the ranks.
// Rank 0 reports in full; the others only their failures, so the log holds
// one summary when all pass.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "distributed/distributed.h"

int main(int argc, char** argv) {
  tg::distributed::Session session(argc, argv);
  doctest::Context context(argc, argv);
  if (!tg::distributed::is_root()) context.setOption("minimal", true);
  return context.run();
}
