// tg::distributed without MPI (-Dmpi=disabled, or no Open MPI found): a world of one
// rank, in which every collective checks its arguments and returns.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "distributed/all_reduce.h"
#include "distributed/broadcast.h"
#include "distributed/distributed.h"
#include "distributed/dtypes.h"

namespace tg::distributed {

Session::Session(int& /*argc*/, char**& /*argv*/) {
  // Started by mpirun -np N on a build without MPI: N copies would each train
  // alone and write the same files.
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (size == nullptr) size = std::getenv("PMI_SIZE");
  if (size != nullptr && std::string(size) != "1")
    fail("this tapegrad was built without MPI but was started as one of {} ranks; rebuild with Open MPI installed "
         "(apt-get install libopenmpi-dev openmpi-bin; meson setup -Dmpi=enabled)",
         size);
}

Session::~Session() = default;

bool built_with_mpi() { return false; }
int rank() { return 0; }
int world_size() { return 1; }
bool is_root() { return true; }
void barrier() {}

void abort_job(std::string_view message) {
  fmt::print(stderr, "tapegrad rank 0 of 1: {}\n", message);
  std::fflush(stderr);
  std::exit(1);
}

void AllReducer::reduce(const std::vector<Tensor>& tensors, ReduceOp op) {
  buffer_.lay_out(tensors, "distributed::all_reduce", detail::reducible_dtypes(op));
  buckets_last_call_ = 0;
}

double all_reduce_sum(double value) { return value; }
int64_t all_reduce_sum(int64_t value) { return value; }
std::vector<double> all_reduce_sum(const std::vector<double>& values) { return values; }

void broadcast(const std::vector<Tensor>& tensors, int root, size_t bucket_bytes) {
  if (root != 0) fail("distributed::broadcast: root {} is not a rank of 0..0", root);
  AllReducer check_bucket(bucket_bytes);
  FlatBuffer buffer;
  buffer.lay_out(tensors, "distributed::broadcast", detail::broadcastable_dtypes());
}

double broadcast_value(double value, int /*root*/) { return value; }
std::string broadcast_string(const std::string& text, int /*root*/) { return text; }

}  // namespace tg::distributed
