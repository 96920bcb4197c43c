#pragma once
// The CUDA device, as seen from code that includes no CUDA header. Every
// function here exists in every build; the work is done by the CUDA backend
// module, loaded the first time one of them (or a cuda tensor) needs it.
// Without the module (built with -Dcuda=disabled, or where no nvcc was
// found) `is_built()` is false, `device_count()` is 0, and placing a tensor
// on Device::cuda() throws a tg::Error naming the files tried.
#include <cstddef>
#include <string>

#include "core/types/device.h"

namespace tg::cuda {

// True when the CUDA backend module (libtapegrad-cuda.so, core/dispatch/device_module.h)
// is found and loads: asking loads it.
bool is_built();
// Number of GPUs the CUDA runtime sees; 0 when not built, no driver or no GPU.
int device_count();
// is_built() and at least one GPU: what tests check before running on cuda.
bool is_available();
// One line saying why is_available() is false ("" when it is true), for skips.
std::string unavailable_reason();

// Waits until every kernel queued on the device has finished. Reading a value
// (item(), to_vector(), a copy to the host) waits by itself; this is for timing.
void synchronize(Device device = Device::cuda());

// Device memory held by the caching allocator of one GPU.
struct MemoryStats {
  size_t in_use_bytes = 0;       // handed to tensors and not yet returned
  size_t cached_bytes = 0;       // returned and kept for reuse (no cudaFree)
  size_t peak_in_use_bytes = 0;  // most in use at once since the start
  size_t device_allocations = 0; // cudaMalloc calls made so far
};
MemoryStats memory_stats(Device device = Device::cuda());
// Returns every cached block of the device to the driver (cudaFree).
void release_cached(Device device = Device::cuda());

}  // namespace tg::cuda
