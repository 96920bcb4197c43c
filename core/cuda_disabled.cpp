// core/cuda.h for builds without the CUDA backend: nothing is available, and
// the first tensor placed on a cuda device gets this file's error.
#include "core/backend.h"
#include "core/cuda.h"
#include "core/error.h"

namespace tg {

Backend& cuda_backend(int index) {
  fail("device cuda:{}: this tapegrad was built without CUDA (rebuild with -Dcuda=enabled where "
       "nvcc and cuBLAS are installed)", index);
}

namespace cuda {

bool is_built() { return false; }
int device_count() { return 0; }
bool is_available() { return false; }
std::string unavailable_reason() { return "tapegrad was built without CUDA"; }
void synchronize(Device device) { cuda_backend(device.index); }
void set_allow_tf32(bool) {}
bool allow_tf32() { return false; }
MemoryStats memory_stats(Device device) {
  cuda_backend(device.index);
  return {};
}
void release_cached(Device) {}

}  // namespace cuda
}  // namespace tg
