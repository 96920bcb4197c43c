// Session, rank and world size, barrier and abort on Open MPI.
#include <fmt/format.h>
#include <mpi.h>

#include <cstdio>
#include <cstdlib>

#include "distributed/distributed.h"
#include "distributed/mpi_wait.h"

namespace tg::distributed {

namespace {

struct World {
  bool running = false;  // MPI_Init done by a Session, MPI_Finalize not yet
  int rank = 0;
  int size = 1;
};

World& world() {
  static World w;
  return w;
}

// Launchers name the rank in the environment: Open MPI, PMIx (Slurm, Open
// MPI 5), MPICH's PMI.
bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

}  // namespace

Session::Session(int& argc, char**& argv) {
  if (world().running) fail("distributed::Session: MPI is initialised already (one Session per program)");
  if (!launched_by_mpi()) return;  // a world of one, without MPI
  int provided = 0;
  // Only the main thread calls MPI; the cpu backend's pool never does.
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  // MPI_ERRORS_ARE_FATAL (the default) stays: an MPI error ends every rank.
  MPI_Comm_rank(MPI_COMM_WORLD, &world().rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world().size);
  world().running = true;
}

Session::~Session() {
  if (!world().running) return;
  MPI_Finalize();
  world() = World{};
}

bool built_with_mpi() { return true; }
int rank() { return world().rank; }
int world_size() { return world().size; }
bool is_root() { return world().rank == 0; }

void barrier() {
  if (world().size == 1) return;
  std::vector<MPI_Request> request(1);
  MPI_Ibarrier(MPI_COMM_WORLD, request.data());
  detail::wait_all(request, "a barrier");
}

void abort_job(std::string_view message) {
  fmt::print(stderr, "tapegrad rank {} of {}: {}\n", world().rank, world().size, message);
  std::fflush(stderr);
  if (world().running) MPI_Abort(MPI_COMM_WORLD, 1);
  std::exit(1);
}

}  // namespace tg::distributed
