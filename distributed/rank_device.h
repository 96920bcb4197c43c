#pragma once
// The device a rank trains on, from a --device text: "cuda" under mpirun
// spreads the ranks over the GPUs (rank r of a machine on GPU r mod the GPUs
// it sees: one GPU per rank, or several ranks sharing one); "cuda:N" and
// "cpu" mean the same device on every rank. Without MPI, parse_device's.
#include <string_view>

#include "core/types/device.h"

namespace tg::distributed {

Device rank_device(std::string_view text);

}  // namespace tg::distributed
