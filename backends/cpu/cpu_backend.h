#pragma once
// The fast host backend: its bodies of the primitives (cpu_backend.cpp) are
// strided elementwise loops that vectorise and split large tensors across
// the thread pool (backends/cpu/thread_pool.h), and matrix products on its own
// AVX-512 kernel or OpenBLAS (cpu_gemm.h); the fused families' cpu bodies are
// in kernels/<family>/. Its results match the reference bodies' up to
// floating-point rounding.
#include "core/dispatch/backend.h"

namespace tg {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  std::string_view name() const override { return "cpu"; }

  // OpenBLAS stays single-threaded (the constructor sees to it): matrix
  // products are split over this backend's thread pool (thread_pool.h).
  void set_num_threads(int n) override;
  int num_threads() const override;
};

// The one cpu backend, registered as "cpu", the default host backend.
Backend& cpu_backend();

}  // namespace tg
