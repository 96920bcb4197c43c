#pragma once
// How a program's main ends under MPI. run_ranks starts a Session, runs
// `body` and returns its exit code. When `body` throws:
//   CollectiveError (thrown on every rank together): print it (rank 0 only,
//     or every rank that knows more), finalise, return 1;
//   anything else (one rank failed alone): print it and end every rank with
//     MPI_Abort, so the others exit instead of waiting in a collective.
// Without MPI, or in a world of one, both print the message and return 1.
#include <functional>

namespace tg::distributed {

int run_ranks(int& argc, char**& argv, const std::function<int()>& body);

}  // namespace tg::distributed
