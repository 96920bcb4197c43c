#include "distributed/mpi_wait.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "distributed/distributed.h"

namespace tg::distributed::detail {

void wait_all(std::vector<MPI_Request>& requests, std::string_view what) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const auto limit = std::chrono::duration<double>(timeout_seconds());
  // MPI progresses nonblocking collectives inside MPI calls, so poll: yield
  // at first (a step's all-reduce takes milliseconds), then sleep up to 1 ms
  // between tests so that a rank waiting for a slow one leaves the core to it.
  std::chrono::microseconds pause{0};
  for (;;) {
    int done = 0;
    MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE);
    if (done) return;
    if (Clock::now() - start > limit)
      abort_job(fmt::format("waited {:.0f} s for {} without the other ranks: a rank has stopped or hangs "
                            "(the limit is TAPEGRAD_DIST_TIMEOUT, in seconds)",
                            timeout_seconds(), what));
    if (pause.count() == 0) std::this_thread::yield();
    else std::this_thread::sleep_for(pause);
    pause = std::min(std::chrono::microseconds{1000}, pause + std::chrono::microseconds{pause.count() / 2 + 1});
  }
}

}  // namespace tg::distributed::detail
