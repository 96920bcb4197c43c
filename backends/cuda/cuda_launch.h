#pragma once
// What a fused kernel family's CUDA body (kernels/<family>/*_cuda.cu) needs
// from the CUDA backend: the stream and error slot of the backend it runs
// on, its Views as Arrays, a check of the launch just queued, and scratch
// memory. Plain declarations, so nvcc compiles it; the definitions are in
// backends/cuda/cuda_backend.cpp.
#include <cstddef>

#include "backends/cuda/cuda_primitives.h"
#include "core/types/view.h"

namespace tg {
class Backend;
}

namespace tg::cuda_kernels {

// The stream and error slot of `backend`, a CUDA backend, its device made current.
Context context_of(Backend& backend);

// Fails with the launch error of the kernel just queued, if any.
void check_launch(const char* kernel);

// Fails naming `kernel` when `n` exceeds what one launch's grid indexes.
void check_blocks(const char* kernel, int64_t n);

inline Array array(const View& v) {
  Array a;
  a.data = v.data;
  a.dtype = v.dtype;
  a.rank = v.shape.size();
  for (int d = 0; d < a.rank; ++d) a.shape[d] = v.shape[d], a.strides[d] = v.strides[d];
  return a;
}

// Device memory of `backend`'s device for the length of one kernel call.
class DeviceScratch {
 public:
  DeviceScratch(Backend& backend, size_t nbytes);
  ~DeviceScratch();
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  void* data() const { return data_; }

 private:
  Backend& backend_;
  size_t nbytes_;
  void* data_;
};

}  // namespace tg::cuda_kernels
