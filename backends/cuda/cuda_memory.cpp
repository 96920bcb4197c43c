// The GPU state of the CUDA backend: devices, streams and the caching allocator.
#include <atomic>
#include <bit>
#include <memory>

#include "backends/cuda/cuda_device.h"
#include "core/services/error.h"

namespace tg {
namespace cuda_detail {

void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) fail("cuda: {} failed: {} ({})", call, cudaGetErrorString(status), cudaGetErrorName(status));
}

void check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) fail("cuda: {} failed: {}", call, cublasGetStatusString(status));
}

size_t CachingAllocator::size_class(size_t nbytes) {
  constexpr size_t kSmall = 512;
  if (nbytes <= kSmall) return kSmall;
  const size_t quarter = std::bit_floor(nbytes) / 4;  // a quarter of the power of two below
  return (nbytes + quarter - 1) / quarter * quarter;
}

void* CachingAllocator::allocate(size_t nbytes) {
  const size_t size = size_class(nbytes);
  {
    std::lock_guard lock(mutex_);
    stats_.in_use_bytes += size;
    stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
    auto it = free_blocks_.find(size);
    if (it != free_blocks_.end() && !it->second.empty()) {
      void* ptr = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= size;
      return ptr;
    }
    ++stats_.device_allocations;
  }
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, size);
  if (status == cudaErrorMemoryAllocation) {  // give the cache back and try once more
    (void)cudaGetLastError();
    release_cached();
    status = cudaMalloc(&ptr, size);
  }
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    {
      std::lock_guard lock(mutex_);
      stats_.in_use_bytes -= size;
    }
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    fail("cuda:{}: out of device memory: could not allocate {} bytes ({} MiB free of {} MiB): {}", device_, nbytes,
         free_bytes >> 20, total_bytes >> 20, cudaGetErrorString(status));
  }
  return ptr;
}

void CachingAllocator::deallocate(void* ptr, size_t nbytes) {
  const size_t size = size_class(nbytes);
  std::lock_guard lock(mutex_);
  stats_.in_use_bytes -= size;
  stats_.cached_bytes += size;
  free_blocks_[size].push_back(ptr);
}

void CachingAllocator::release_cached() {
  std::lock_guard lock(mutex_);
  // Blocks are handed back once no queued kernel can still use them.
  cudaDeviceSynchronize();
  for (auto& [size, blocks] : free_blocks_)
    for (void* ptr : blocks) cudaFree(ptr);
  free_blocks_.clear();
  stats_.cached_bytes = 0;
}

cuda::MemoryStats CachingAllocator::stats() {
  std::lock_guard lock(mutex_);
  return stats_;
}

namespace {
thread_local int current_device = -1;
}  // namespace

int count_devices(std::string* reason) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    if (reason != nullptr) *reason = fmt::format("no CUDA device: {}", cudaGetErrorString(status));
    return 0;
  }
  if (count == 0 && reason != nullptr) *reason = "no CUDA device: the driver reports 0 GPUs";
  return count;
}

GpuDevice::GpuDevice(int i) : index(i), allocator(i) {
  make_current();
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  check(cublasCreate(&blas), "cublasCreate");
  check(cublasSetStream(blas, stream), "cublasSetStream");
  void* mapped = nullptr;
  check(cudaHostAlloc(&mapped, sizeof(cuda_kernels::DeviceError), cudaHostAllocMapped), "cudaHostAlloc");
  error = new (mapped) cuda_kernels::DeviceError{};
}

void GpuDevice::make_current() const {
  if (current_device == index) return;
  check(cudaSetDevice(index), "cudaSetDevice");
  current_device = index;
}

void GpuDevice::synchronize() {
  make_current();
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  if (error->code == 0) return;
  const cuda_kernels::DeviceError e = *error;
  error->code = 0;
  using Code = cuda_kernels::DeviceErrorCode;
  switch (static_cast<Code>(e.code)) {
    case Code::gather_index:
      fail("gather_rows: index {} at row {} is out of range for a table of {} rows (found on cuda:{})", e.value,
           e.position, e.limit, index);
    case Code::scatter_index:
      fail("scatter_add_rows: index {} at row {} is out of range for a table of {} rows (found on cuda:{})",
           e.value, e.position, e.limit, index);
    case Code::nll_target:
    case Code::nll_backward_target:
      fail("{}: target {} at row {} is out of range for {} classes (found on cuda:{})",
           static_cast<Code>(e.code) == Code::nll_target ? "nll" : "nll_backward", e.value, e.position, e.limit,
           index);
    case Code::none: break;
  }
  fail("cuda:{}: a kernel reported error code {}", index, e.code);
}

GpuDevice& gpu(int index) {
  static std::mutex mutex;
  static auto* devices = new std::vector<std::unique_ptr<GpuDevice>>;  // never destroyed: tensors outlive statics
  std::lock_guard lock(mutex);
  if (index < 0 || index >= static_cast<int>(devices->size()) || (*devices)[index] == nullptr) {
    std::string reason;
    const int count = count_devices(&reason);
    if (count == 0) fail("device cuda:{}: {}", index, reason);
    if (index < 0 || index >= count)
      fail("device cuda:{}: there {} {} CUDA device{} (cuda:0{})", index, count == 1 ? "is" : "are", count,
           count == 1 ? "" : "s", count == 1 ? "" : fmt::format(" to cuda:{}", count - 1));
    if (static_cast<int>(devices->size()) < count) devices->resize(count);
    (*devices)[index] = std::make_unique<GpuDevice>(index);
  }
  return *(*devices)[index];
}

}  // namespace cuda_detail

}  // namespace tg
