#include "ops/sequence_mask.h"

#include <algorithm>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/services/profiler.h"
#include "core/tensor/compute.h"

namespace tg {

// mask[b, t] = t < lengths[b]: positions (1, T) compared with lengths (B, 1),
// broadcast; in float64, exact for any length below 2^53.
Tensor sequence_mask(const Tensor& lengths, std::optional<int64_t> max_len) {
  const ProfileScope profile("sequence_mask");
  check_defined(lengths, "sequence_mask", "lengths");
  if (lengths.dtype() != DType::i64 || lengths.ndim() != 1)
    fail("sequence_mask: lengths must be int64 (B), got {} {}", dtype_name(lengths.dtype()), lengths.shape().str());
  if (max_len && *max_len < 0) fail("sequence_mask: max_len must be >= 0, got {}", *max_len);
  const int64_t batch = lengths.shape()[0];
  int64_t steps = 0;
  if (max_len) {
    steps = *max_len;
  } else {
    const std::vector<int64_t> values = lengths.to_host().to_vector<int64_t>();
    if (!values.empty()) steps = std::max<int64_t>(0, *std::max_element(values.begin(), values.end()));
  }
  const Tensor positions = arange(steps, {DType::f64, lengths.device()});
  const Tensor limits = contiguous_values(lengths.to(DType::f64));
  return compute::binary(BinaryOp::lt, make_view(positions, Shape{1, steps}, Strides{0, 1}, positions.offset()),
                         make_view(limits, Shape{batch, 1}, Strides{1, 0}, limits.offset()));
}

}  // namespace tg
