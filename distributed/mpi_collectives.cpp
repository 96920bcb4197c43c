// All-reduce and broadcast on Open MPI: nonblocking calls, one per bucket,
// two in flight at a time, waited for with a deadline (mpi_wait.h).
#include <fmt/format.h>
#include <mpi.h>

#include "distributed/all_reduce.h"
#include "distributed/broadcast.h"
#include "distributed/distributed.h"
#include "distributed/dtypes.h"
#include "distributed/mpi_wait.h"

namespace tg::distributed {

namespace {

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i64: return MPI_INT64_T;
    case DType::boolean: return MPI_BYTE;
    case DType::i8: return MPI_INT8_T;
    case DType::f16:
    case DType::bf16: return MPI_UINT16_T;  // moved as bits: broadcast only, never reduced
  }
  return MPI_BYTE;
}

// Two buckets in flight at a time, so that one is reduced while the next is
// sent. Not all at once: Open MPI allocates a temporary buffer
// per nonblocking all-reduce, and with all 20 buckets of the Bahdanau model
// in flight (80 MB) glibc hands that memory back to the system after every
// call, so each step faulted it in afresh (0.63 s for 82 MB on 2 cores,
// against 0.06 s with two in flight: bench/all_reduce.cpp).
constexpr size_t kBucketsInFlight = 2;

// Runs `start(bucket, request)` for every bucket of the buffer, at most
// kBucketsInFlight at once, and waits for all.
template <typename Start>
int64_t run_buckets(FlatBuffer& buffer, size_t bucket_bytes, std::string_view what, Start start) {
  const std::vector<Bucket> buckets = buffer.buckets(bucket_bytes);
  const std::string description =
      fmt::format("{} of {} elements in {} buckets", what, buffer.elements(), buckets.size());
  std::vector<MPI_Request> requests(buckets.size());
  const size_t element = dtype_size(buffer.dtype());
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (i >= kBucketsInFlight) {
      std::vector<MPI_Request> oldest = {requests[i - kBucketsInFlight]};
      detail::wait_all(oldest, description);
      requests[i - kBucketsInFlight] = oldest[0];  // MPI_REQUEST_NULL now
    }
    start(buffer.data() + buckets[i].offset * element, static_cast<int>(buckets[i].count), &requests[i]);
  }
  detail::wait_all(requests, description);
  return static_cast<int64_t>(buckets.size());
}

template <typename T>
void all_reduce_in_place(T* values, int count, MPI_Datatype type, std::string_view what) {
  std::vector<MPI_Request> request(1);
  MPI_Iallreduce(MPI_IN_PLACE, values, count, type, MPI_SUM, MPI_COMM_WORLD, request.data());
  detail::wait_all(request, what);
}

}  // namespace

void AllReducer::reduce(const std::vector<Tensor>& tensors, ReduceOp op) {
  buffer_.lay_out(tensors, "distributed::all_reduce", detail::reducible_dtypes(op));
  buckets_last_call_ = 0;
  if (world_size() == 1 || buffer_.elements() == 0) return;
  buffer_.pack(tensors);
  const MPI_Datatype type = mpi_type(buffer_.dtype());
  buckets_last_call_ = run_buckets(buffer_, bucket_bytes_, "all_reduce", [&](std::byte* at, int count, MPI_Request* r) {
    MPI_Iallreduce(MPI_IN_PLACE, at, count, type, MPI_SUM, MPI_COMM_WORLD, r);
  });
  if (op == ReduceOp::mean) buffer_.divide_by(static_cast<double>(world_size()));
  buffer_.unpack(tensors);
}

double all_reduce_sum(double value) {
  if (world_size() > 1) all_reduce_in_place(&value, 1, MPI_DOUBLE, "all_reduce_sum of a number");
  return value;
}

int64_t all_reduce_sum(int64_t value) {
  if (world_size() > 1) all_reduce_in_place(&value, 1, MPI_INT64_T, "all_reduce_sum of a count");
  return value;
}

std::vector<double> all_reduce_sum(const std::vector<double>& values) {
  std::vector<double> out = values;
  if (world_size() > 1 && !out.empty())
    all_reduce_in_place(out.data(), static_cast<int>(out.size()), MPI_DOUBLE, "all_reduce_sum of a few numbers");
  return out;
}

void broadcast(const std::vector<Tensor>& tensors, int root, size_t bucket_bytes) {
  if (root < 0 || root >= world_size()) fail("distributed::broadcast: root {} is not a rank of 0..{}", root, world_size() - 1);
  AllReducer check_bucket(bucket_bytes);  // validates bucket_bytes like all_reduce
  FlatBuffer buffer;
  buffer.lay_out(tensors, "distributed::broadcast", detail::broadcastable_dtypes());
  if (world_size() == 1 || buffer.elements() == 0) return;
  if (rank() == root) buffer.pack(tensors);
  const MPI_Datatype type = mpi_type(buffer.dtype());
  run_buckets(buffer, bucket_bytes, "broadcast", [&](std::byte* at, int count, MPI_Request* r) {
    MPI_Ibcast(at, count, type, root, MPI_COMM_WORLD, r);
  });
  if (rank() != root) buffer.unpack(tensors);
}

double broadcast_value(double value, int root) {
  if (world_size() == 1) return value;
  std::vector<MPI_Request> request(1);
  MPI_Ibcast(&value, 1, MPI_DOUBLE, root, MPI_COMM_WORLD, request.data());
  detail::wait_all(request, "broadcast of a number");
  return value;
}

std::string broadcast_string(const std::string& text, int root) {
  if (world_size() == 1) return text;
  int64_t size = static_cast<int64_t>(text.size());
  std::vector<MPI_Request> request(1);
  MPI_Ibcast(&size, 1, MPI_INT64_T, root, MPI_COMM_WORLD, request.data());
  detail::wait_all(request, "broadcast of a text's length");
  std::string out = rank() == root ? text : std::string(static_cast<size_t>(size), '\0');
  MPI_Ibcast(out.data(), static_cast<int>(size), MPI_CHAR, root, MPI_COMM_WORLD, request.data());
  detail::wait_all(request, "broadcast of a text");
  return out;
}

}  // namespace tg::distributed
