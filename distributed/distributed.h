#pragma once
// tg::distributed: data-parallel training over MPI (Open MPI), a small layer above
// core that programs use (nn and optim know nothing of it).
//
//   int main(int argc, char** argv) {
//     tg::distributed::Session session(argc, argv);     // MPI_Init under mpirun, else one process
//     ...                                        // every rank builds the same model
//     tg::distributed::broadcast(model.parameters());   // rank 0's initial weights everywhere
//     loss.backward();
//     reducer.reduce_gradients(params);          // sum of the ranks' gradients, bucketed
//     adam.step();                               // same input on every rank -> same update
//   }
//
// A program started without mpirun (or built without MPI, -Dmpi=disabled) is
// one rank of a world of one: every collective returns at once, unchanged.
//
// No collective waits forever: each blocking wait polls a nonblocking MPI
// request against a deadline (timeout_seconds(), 600 s by default, env
// TAPEGRAD_DIST_TIMEOUT) and past it stops the whole job with MPI_Abort and a
// message naming what it waited for. A rank that dies is noticed by mpirun,
// which ends the others.
#include <string_view>

#include "core/services/error.h"

namespace tg::distributed {

// Initialises MPI when the process was started by an MPI launcher (mpirun,
// srun: its environment names a rank) and finalises it at the end of scope.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

// Whether this build has MPI (-Dmpi); without it a Session under mpirun -np 2
// stops with an error instead of training twice side by side.
bool built_with_mpi();
int rank();        // 0 .. world_size() - 1; 0 without MPI
int world_size();  // 1 without MPI
bool is_root();    // rank() == 0: the rank that prints, validates and writes files

// Waits until every rank has arrived (bounded like every collective).
void barrier();

// How long a collective may wait for the other ranks before the job stops.
double timeout_seconds();
void set_timeout_seconds(double seconds);

// Prints "tapegrad rank R of N: <message>" to stderr and ends every rank
// (MPI_Abort, exit code 1); without MPI, exits with 1.
[[noreturn]] void abort_job(std::string_view message);

// Thrown on every rank at the same point of the program (a configuration that
// differs between ranks): all ranks know, so they can finalise and exit
// normally rather than abort.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

}  // namespace tg::distributed
