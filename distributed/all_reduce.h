#pragma once
// All-reduce: every rank ends with the elementwise sum (or mean) over all
// ranks, bit for bit the same on every rank.
//
// Tensors are laid end to end in one flat host buffer (distributed/flat_buffer.h)
// and reduced in buckets of bucket_bytes, two in flight at a time: a few large
// messages instead of one call per tensor (the Bahdanau model has 20 tensors,
// 82 MB of float32 gradients). The buffer stays allocated between steps.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"
#include "distributed/flat_buffer.h"

namespace tg::distributed {

enum class ReduceOp { sum, mean };

inline constexpr size_t kDefaultBucketBytes = size_t{4} << 20;  // 4 MiB

class AllReducer {
 public:
  explicit AllReducer(size_t bucket_bytes = kDefaultBucketBytes);
  // Reduces `tensors` in place. They must be defined, contiguous, on the host
  // and of one dtype (float32, float64, or int64 for sum); empty ones are
  // fine. Every rank passes the same shapes in the same order.
  void reduce(const std::vector<Tensor>& tensors, ReduceOp op);
  // Sums the gradients of `params` over the ranks. A parameter without a
  // gradient (unused in this rank's batch) gets zeros first, so every rank
  // sends the same layout.
  void reduce_gradients(const std::vector<Tensor>& params, ReduceOp op = ReduceOp::sum);
  size_t bucket_bytes() const { return bucket_bytes_; }
  int64_t buckets_last_call() const { return buckets_last_call_; }

 private:
  size_t bucket_bytes_;
  int64_t buckets_last_call_ = 0;
  FlatBuffer buffer_;
};

// One-off all-reduce of tensors in place (a temporary AllReducer).
void all_reduce(const std::vector<Tensor>& tensors, ReduceOp op, size_t bucket_bytes = kDefaultBucketBytes);

// Sums of a few numbers over the ranks (token counts, losses, flags).
double all_reduce_sum(double value);
int64_t all_reduce_sum(int64_t value);
std::vector<double> all_reduce_sum(const std::vector<double>& values);

}  // namespace tg::distributed
