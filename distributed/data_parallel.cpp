#include "distributed/data_parallel.h"

#include <chrono>

#include "core/services/error.h"
#include "distributed/broadcast.h"
#include "distributed/distributed.h"
#include "distributed/shard.h"

namespace tg::distributed {

DataParallel::DataParallel() : rank_(distributed::rank()), world_(distributed::world_size()) {}

void DataParallel::start(const Fingerprint& fingerprint, const std::vector<Tensor>& params, std::string_view program,
                         std::string_view setup) {
  if (!active()) return;
  check_same_on_all_ranks(fingerprint, setup);
  for (const Tensor& p : params)
    if (p.device() != params.front().device())
      fail("{} under MPI: the model's parameters are on {} and {}; expected one device", program,
           params.front().device().str(), p.device().str());
  broadcast(params);
}

std::vector<int64_t> DataParallel::share(const std::vector<int64_t>& global_batch) const {
  return rank_share(global_batch, rank_, world_);
}

DataParallel::Agreed DataParallel::agree(double share_loss, bool stop_requested) {
  if (!active()) return {share_loss, stop_requested};
  const std::vector<double> sums = all_reduce_sum(std::vector<double>{share_loss, stop_requested ? 1.0 : 0.0});
  return {sums[0], sums[1] > 0};
}

void DataParallel::reduce_gradients(const std::vector<Tensor>& params) {
  if (!active()) return;
  const auto start = std::chrono::steady_clock::now();
  reducer_.reduce_gradients(params);
  reduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++reduce_calls_;
}

double DataParallel::root_value(double value) const { return active() ? broadcast_value(value, 0) : value; }

bool DataParallel::any(bool flag) const { return active() ? all_reduce_sum(flag ? 1.0 : 0.0) > 0 : flag; }

}  // namespace tg::distributed
