#include "backends/cpu/sgemm_choice.h"

#include <cblas.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <mutex>

#include "core/services/error.h"

namespace tg::cpu {

// cpuid leaf 0 (vendor) and 1 (family and model).
Processor this_processor() {
  Processor p;
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return p;
  char vendor[13] = {};
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  p.vendor = std::string(vendor) == "AuthenticAMD" ? "AMD" : std::string(vendor) == "GenuineIntel" ? "Intel" : vendor;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return p;
  const unsigned base_family = (eax >> 8) & 0xf, base_model = (eax >> 4) & 0xf;
  p.family = base_family == 0xf ? base_family + ((eax >> 20) & 0xff) : base_family;
  p.model = base_family == 0xf || base_family == 6 ? base_model | (((eax >> 16) & 0xf) << 4) : base_model;
#endif
  return p;
}

namespace {

// A measured row: on this processor model, against this OpenBLAS core, the faster kernel of each form over a
// Bahdanau training and decoding step's products (bench_matmul --choose, 2 threads; docs/performance.md).
struct MeasuredRow {
  const char* vendor;
  unsigned family, model;
  const char* openblas_core;
  SgemmKernel a_in_place, a_transposed;
  const char* when;
};
constexpr MeasuredRow kMeasured[] = {
    // Zen 4, 2 threads: the own kernel 1.07-1.31x OpenBLAS at m = 64 and 320 (a parameter's packing kept),
    // 0.99-1.02x at m = 1216 (geometric mean 1.14x); OpenBLAS 1.1-1.25x on the transposed form.
    {"AMD", 25, 17, "Cooperlake", SgemmKernel::own, SgemmKernel::openblas, "2026-11-27"},
    // Intel Xeon (Emerald Rapids) with OPENBLAS_CORETYPE=SkylakeX (0.3.21 falls back to Prescott here), 2 threads:
    // the own kernel 1.09-1.42x OpenBLAS on the recurrent steps' and the logits' input-gradient products,
    // 0.85-0.93x on the output layer's (geometric mean 1.04x); OpenBLAS 1.13-1.56x on the transposed form.
    {"Intel", 6, 207, "SkylakeX", SgemmKernel::own, SgemmKernel::openblas, "2026-11-29"},
    // Zen 5 (EPYC, family 26 model 2), 2 threads: the own kernel 1.12-1.54x OpenBLAS's Cooperlake core on the
    // decoding steps' and the context's products (m = 64 and 320), 0.90-1.18x on the recurrent step's, even at
    // m = 1216 (geometric mean 1.15x); OpenBLAS 1.02-1.30x on the transposed form.
    {"AMD", 26, 2, "Cooperlake", SgemmKernel::own, SgemmKernel::openblas, "2026-11-30"},
};

SgemmChoice decide() {
  const char* forced = std::getenv("TG_SGEMM");
  const std::string_view value = forced == nullptr ? "" : forced;
  if (!value.empty() && value != "own" && value != "openblas")
    fail("TG_SGEMM must be own or openblas (or unset), got '{}'", value);
  if (value == "own") {
    if (!own_sgemm_runs_here())
      fail("TG_SGEMM=own: this build or processor has no own kernel (it needs AVX-512 F, BW, DQ and VL, and GCC for a "
           "generic build); unset TG_SGEMM or set it to openblas");
    return {SgemmKernel::own, SgemmKernel::own, "TG_SGEMM=own"};
  }
  if (value == "openblas") return {SgemmKernel::openblas, SgemmKernel::openblas, "TG_SGEMM=openblas"};
  const std::string_view core = openblas_get_corename();
  if (!own_sgemm_runs_here())
    return {SgemmKernel::openblas, SgemmKernel::openblas, "rule: no own kernel in this build or on this processor"};
  const Processor here = this_processor();
  for (const MeasuredRow& row : kMeasured)
    if (here.vendor == row.vendor && here.family == row.family && here.model == row.model && core == row.openblas_core)
      return {row.a_in_place, row.a_transposed,
              fmt::format("measured: {} family {} model {} against OpenBLAS's {} core, {}", row.vendor, row.family,
                          row.model, row.openblas_core, row.when)};
  // OpenBLAS's AVX-512 cores run about as fast; any other core here (Haswell's, or Prescott's, which OpenBLAS
  // 0.3.21 falls back to on an Intel model its table lacks) is slower and rounds differently.
  const bool wide = core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids";
  const SgemmKernel kernel = wide ? SgemmKernel::openblas : SgemmKernel::own;
  return {kernel, kernel,
          fmt::format("rule: {} family {} model {} not measured; OpenBLAS's {} core is {}AVX-512", here.vendor,
                      here.family, here.model, core, wide ? "" : "not ")};
}

struct ChoiceState {
  std::once_flag decided;
  SgemmChoice processor_choice;
  std::optional<SgemmChoice> override_choice;
};
ChoiceState& state() {
  static ChoiceState instance;
  return instance;
}

}  // namespace

const SgemmChoice& sgemm_choice() {
  ChoiceState& s = state();
  if (s.override_choice) return *s.override_choice;
  std::call_once(s.decided, [&] { s.processor_choice = decide(); });
  return s.processor_choice;
}

SgemmKernel sgemm_kernel(bool a_transposed) {
  const SgemmChoice& choice = sgemm_choice();
  return a_transposed ? choice.a_transposed : choice.a_in_place;
}

bool use_own_sgemm() { return sgemm_kernel(false) == SgemmKernel::own; }

void set_sgemm_choice(std::optional<SgemmChoice> choice) {
  if (choice && (choice->a_in_place == SgemmKernel::own || choice->a_transposed == SgemmKernel::own) &&
      !own_sgemm_runs_here())
    fail("set_sgemm_choice: the own kernel cannot run in this build or on this processor");
  state().override_choice = std::move(choice);
}

std::string_view sgemm_kernel_name(SgemmKernel kernel) { return kernel == SgemmKernel::own ? "own" : "openblas"; }

}  // namespace tg::cpu
