#pragma once
// Which bf16 product kernel runs, set for a test's scope: the guard restores the processor's choice however
// the scope ends (backends/cpu/cpu_gemm.h: dpbf16 on AMD, amx on Intel with the tiles, fma on Intel without).
#include "backends/cpu/cpu_gemm.h"

struct Bf16KernelGuard {
  explicit Bf16KernelGuard(tg::cpu::Bf16Kernel kernel) : previous(tg::cpu::bf16_kernel()) {
    tg::cpu::set_bf16_kernel(kernel);
  }
  ~Bf16KernelGuard() { tg::cpu::set_bf16_kernel(previous); }
  Bf16KernelGuard(const Bf16KernelGuard&) = delete;
  Bf16KernelGuard& operator=(const Bf16KernelGuard&) = delete;
  tg::cpu::Bf16Kernel previous;
};
