#pragma once
// The one place the MPI build waits for other ranks: nonblocking requests
// polled against a deadline, so a rank that hangs or skipped a collective
// stops the job with a message instead of blocking it for ever.
#include <mpi.h>

#include <string_view>
#include <vector>

namespace tg::distributed::detail {

// Waits until every request is complete. Past timeout_seconds() it prints
// what it waited for and calls MPI_Abort, which ends every rank.
void wait_all(std::vector<MPI_Request>& requests, std::string_view what);

}  // namespace tg::distributed::detail
