#pragma once
// One GPU as the CUDA backend uses it: its stream (every kernel, copy and
// cuBLAS call of the device is queued on it, so work runs in the order it was
// asked for and the host waits only when it reads a value), its cuBLAS
// handle, its caching allocator and the host-mapped word where kernels report
// bad indices. Internal to core/cuda_*.cpp; includes CUDA headers.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/dispatch/backend.h"
#include "core/dispatch/cuda.h"
#include "backends/cuda/cuda_primitives.h"

namespace tg::cuda_detail {

// Throws tg::Error naming the call and CUDA's message unless status is success.
void check(cudaError_t status, const char* call);
void check(cublasStatus_t status, const char* call);

// Device memory in size classes: requests are rounded up to 512 bytes, or to
// a quarter of their power of two above that (at most 25% waste), and freed
// blocks wait in a free list per class for the next request of that class.
// Reuse needs no synchronisation because all work of the device runs on one
// stream, in order: a kernel that reads a block is queued before any kernel
// that writes the block's next owner.
class CachingAllocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  void* allocate(size_t nbytes);
  void deallocate(void* ptr, size_t nbytes);
  void release_cached();
  cuda::MemoryStats stats();
  static size_t size_class(size_t nbytes);

 private:
  int device_;
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;
  cuda::MemoryStats stats_;
};

struct GpuDevice {
  int index = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cuda_kernels::DeviceError* error = nullptr;  // host-mapped
  CachingAllocator allocator;

  explicit GpuDevice(int i);
  cuda_kernels::Context context() const { return {stream, error}; }
  // Makes this GPU current on the calling thread (cheap when it already is).
  void make_current() const;
  // Waits for the stream, then throws if a kernel reported a bad index.
  void synchronize();
};

// GPUs the CUDA runtime sees; 0, with the reason in *reason, when none.
int count_devices(std::string* reason);

// The GPU of that index, set up on first use; throws when CUDA finds no GPU
// or the index is past the last one.
GpuDevice& gpu(int index);

}  // namespace tg::cuda_detail

namespace tg {
// The backend of GPU `index` (cuda_backend.cpp); throws for a missing GPU.
Backend& cuda_backend(int index);
}  // namespace tg
