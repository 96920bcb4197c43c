#pragma once
// Which kernel runs a float32 product on this processor: the own AVX-512
// kernel (cpu_gemm.h) or OpenBLAS. Decided once per process, per processor
// and per product form, never per call, so that two runs on one machine
// compute the same bits:
//
//   1. TG_SGEMM=own or TG_SGEMM=openblas forces one kernel for every form;
//   2. else a table of measured choices, one row per processor model and
//      OpenBLAS core it was measured against (`bench_matmul --choose` measures
//      both kernels at a training and a decoding step's shapes and prints the
//      row; sgemm_choice.cpp holds the rows);
//   3. else the rule: the own kernel wherever it can run and OpenBLAS runs a
//      narrower (not AVX-512) core here.
//
// The forms: A read in place (its rows are runs of memory: every forward
// product, and an input's gradient dY·W), or A transposed (a weight's
// gradient Xᵀ·dY, where the own kernel copies A's tiles first).
#include <optional>
#include <string>
#include <string_view>

namespace tg::cpu {

enum class SgemmKernel { own, openblas };

// The processor as cpuid names it: what a measured row is keyed by.
struct Processor {
  std::string vendor;  // "AMD", "Intel" or cpuid's vendor string
  unsigned family = 0, model = 0;  // with their extended fields, as the vendors define them
};
Processor this_processor();

struct SgemmChoice {
  SgemmKernel a_in_place = SgemmKernel::openblas;
  SgemmKernel a_transposed = SgemmKernel::openblas;
  std::string source;  // how it was decided: "TG_SGEMM=own", "measured: AMD family 25 model 17, ...", "rule: ..."
};

// The choice for this process (the override if set, else steps 1-3, decided on first use).
const SgemmChoice& sgemm_choice();
// The kernel for a product whose A is transposed (k > 1 and A's column stride is not 1) or not.
SgemmKernel sgemm_kernel(bool a_transposed);
// Replaces the choice until reset (nullopt): bench_matmul --choose measures each kernel in one process.
// Not for use while products run on other threads.
void set_sgemm_choice(std::optional<SgemmChoice> choice);

// Whether products whose A is in place run on the own kernel (what the bit-exactness tests of decoding need).
bool use_own_sgemm();
// Whether the own kernel can run here (this build has it and the processor has AVX-512 F, BW, DQ, VL).
bool own_sgemm_runs_here();
std::string_view sgemm_kernel_name(SgemmKernel kernel);

}  // namespace tg::cpu
