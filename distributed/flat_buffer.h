#pragma once
// Tensors of one dtype laid end to end in one host buffer, cut into buckets
// of at most bucket_bytes (at element boundaries, so a tensor may straddle
// two buckets): what the collectives send, a few MB per call. Tensors on a
// GPU are staged through it (copied to the host and back), so MPI needs no
// CUDA support.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/types/dtype.h"
#include "core/tensor/tensor.h"

namespace tg::distributed {

// A slice of the buffer, in elements.
struct Bucket {
  size_t offset = 0;
  size_t count = 0;
};

class FlatBuffer {
 public:
  // Checks `tensors` (defined, on one device, contiguous, one dtype in
  // `allowed`) and sizes the buffer for them; `op` names the caller in errors.
  void lay_out(const std::vector<Tensor>& tensors, const char* op, const std::vector<DType>& allowed);
  void pack(const std::vector<Tensor>& tensors);    // tensors -> buffer
  void unpack(const std::vector<Tensor>& tensors);  // buffer -> tensors
  void divide_by(double divisor);                    // buffer /= divisor (floating dtypes): the mean
  std::vector<Bucket> buckets(size_t bucket_bytes) const;
  std::byte* data() { return bytes_.data(); }
  DType dtype() const { return dtype_; }
  size_t elements() const { return elements_; }

 private:
  std::vector<std::byte> bytes_;
  DType dtype_ = DType::f32;
  size_t elements_ = 0;
};

}  // namespace tg::distributed
