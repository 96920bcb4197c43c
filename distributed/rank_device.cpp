#include "distributed/rank_device.h"

#include <cstdlib>

#include "core/dispatch/cuda.h"
#include "distributed/distributed.h"

namespace tg::distributed {

namespace {
// This rank's place among the ranks on its machine: Open MPI's local rank,
// else the world rank (one machine).
int local_rank() {
  if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK")) return std::atoi(local);
  return rank();
}
}  // namespace

Device rank_device(std::string_view text) {
  const Device device = parse_device(text);
  if (text != "cuda" || world_size() == 1) return device;
  const int gpus = cuda::device_count();
  return gpus > 0 ? Device::cuda(local_rank() % gpus) : device;  // none: device_backend says why
}

}  // namespace tg::distributed
