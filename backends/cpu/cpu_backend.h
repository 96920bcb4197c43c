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
  // bf16 only where its products beat float32's: vdpbf16ps at twice float32's multiply-adds a cycle (AMD's
  // Zen 4 and 5) or AMX's tiles (Intel's Sapphire and Emerald Rapids); fp32 where vdpbf16ps issues at half the
  // rate (Intel without AMX) or is missing. TG_BF16_KERNEL set: as asked.
  MatmulPrecision training_precision(MatmulPrecision asked) const override;
};

// The one cpu backend, registered as "cpu", the default host backend.
Backend& cpu_backend();

}  // namespace tg
