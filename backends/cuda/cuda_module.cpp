// The CUDA backend as a module (core/dispatch/device_module.h): what the engine calls
// once it has loaded libtapegrad-cuda.so.
#include "backends/cuda/cuda_device.h"
#include "core/dispatch/device_module.h"

namespace tg {
namespace {

class CudaModule final : public DeviceModule {
 public:
  int device_count() override { return cuda_detail::count_devices(nullptr); }
  std::string unavailable_reason() override {
    std::string reason;
    cuda_detail::count_devices(&reason);
    return reason;
  }
  Backend& backend(int index) override { return cuda_backend(index); }
  void synchronize(int index) override { cuda_detail::gpu(index).synchronize(); }
  cuda::MemoryStats memory_stats(int index) override { return cuda_detail::gpu(index).allocator.stats(); }
  void release_cached(int index) override { cuda_detail::gpu(index).allocator.release_cached(); }
};

}  // namespace
}  // namespace tg

extern "C" __attribute__((visibility("default"))) tg::DeviceModule* tapegrad_device_module() {
  static tg::CudaModule module;
  return &module;
}
