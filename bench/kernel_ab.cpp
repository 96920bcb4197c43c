// Two or more builds of the product kernels, timed against each other in one
// process: each libtapegrad.so is loaded into a namespace of its own
// (dlmopen), and their own_sgemm or own_bf16gemm take turns, one timed block
// of at least 0.1 s each, the order rotated every round. On these shared
// machines the same binary's rate moves by ±20% from minute to minute (and
// AMX's by 2x, its unit shared between the core's two threads); runs of
// separate processes could not tell a 10% change from that, alternated blocks
// can. Also compares the results: the largest |difference| from the first
// library's, 0 where a change keeps the bits.
//
//   bench_kernel_ab --mkn 1216 1792 5921 --b parameter_t --rounds 7 --lib /tmp/before/libtapegrad.so --lib build/libtapegrad.so
//
// (Copy build/libtapegrad.so aside before a change to have the "before".)
// TG_NUM_THREADS sets the threads, TG_BF16_KERNEL the bf16 kernel, as for any
// program. Output, one line per library:
//   kernel_ab shape=(M,K)x(K,N) b=.. a=.. precision=.. lib=.. gflops_median=.. range=..-.. max_diff_from_first=..
#include <dlfcn.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

// tg::cpu::MatrixF32's layout (backends/cpu/cpu_gemm.h), declared here: nothing of tapegrad is linked.
struct MatrixF32 {
  const float* data;
  int64_t row_stride, col_stride;
  uint64_t storage_id = 0, storage_version = 0;
};
using Gemm = void (*)(int64_t, int64_t, int64_t, MatrixF32, MatrixF32, float*, int64_t, bool);

// tg::cpu::own_sgemm and tg::cpu::own_bf16gemm, as the compiler names them.
const char* symbol(const std::string& precision) {
  return precision == "bf16" ? "_ZN2tg3cpu12own_bf16gemmElllNS0_9MatrixF32ES1_Pflb"
                             : "_ZN2tg3cpu9own_sgemmElllNS0_9MatrixF32ES1_Pflb";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> mkn;
  std::string b_form = "tensor", a_form = "tensor", precision = "bf16";
  std::vector<std::string> libraries;
  int rounds = 7;
  bool accumulate = false, cold = false;
  CLI::App app{"own_sgemm or own_bf16gemm of several libtapegrad builds, alternated in one process"};
  app.add_option("--mkn", mkn, "M K N for (M, K) x (K, N)")->expected(3)->required();
  app.add_option("--b", b_form, "B as a plain tensor or a parameter (kept packed); _t: its transpose (W as Wᵀ)")
      ->check(CLI::IsMember({"tensor", "parameter", "parameter_t"}))
      ->capture_default_str();
  app.add_option("--a", a_form, "A as a plain tensor, or tensor_t: the transpose of one (Xᵀ)")
      ->check(CLI::IsMember({"tensor", "tensor_t"}))
      ->capture_default_str();
  app.add_option("--precision", precision, "fp32 (own_sgemm) or bf16 (own_bf16gemm)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  app.add_flag("--accumulate", accumulate, "C += A B in the timed calls (a weight gradient summed over a sequence's steps)");
  app.add_flag("--cold", cold,
               "before each timed call, an untimed product of another 8 MB B on the same threads (as a step's other "
               "products leave the caches): B and A come from L3, not L2");
  app.add_option("--rounds", rounds, "timed blocks per library")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--lib", libraries, "a libtapegrad.so (at least two; the first is the reference)")
      ->required()
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (libraries.size() < 2) {
    std::fprintf(stderr, "bench_kernel_ab: give at least two --lib, got %zu\n", libraries.size());
    return 1;
  }

  std::vector<Gemm> kernels;
  for (const std::string& path : libraries) {
    void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      std::fprintf(stderr, "bench_kernel_ab: cannot load %s: %s\n", path.c_str(), dlerror());
      return 1;
    }
    auto* kernel = reinterpret_cast<Gemm>(dlsym(handle, symbol(precision)));
    if (kernel == nullptr) {
      std::fprintf(stderr, "bench_kernel_ab: %s has no %s (not a libtapegrad with the own kernels?)\n", path.c_str(),
                   symbol(precision));
      return 1;
    }
    kernels.push_back(kernel);
  }

  const int64_t m = mkn[0], k = mkn[1], n = mkn[2];
  std::mt19937 generator(1);
  std::normal_distribution<float> normal;
  std::vector<float> a_values(m * k), b_values(k * n), c(m * n);
  for (float& x : a_values) x = normal(generator);
  for (float& x : b_values) x = normal(generator);
  // A parameter's storage id and version let the library keep its packing, as for a model's weight.
  const MatrixF32 a = a_form == "tensor" ? MatrixF32{a_values.data(), k, 1} : MatrixF32{a_values.data(), 1, m};
  const MatrixF32 b = b_form == "parameter_t" ? MatrixF32{b_values.data(), 1, k, 1, 1}
                      : b_form == "parameter" ? MatrixF32{b_values.data(), n, 1, 1, 1}
                                              : MatrixF32{b_values.data(), n, 1};

  // --cold's other product: (64, 1024) x (1024, 2048), B a plain tensor (8 MB, packed by every call).
  constexpr int64_t kColdM = 64, kColdK = 1024, kColdN = 2048;
  std::vector<float> cold_a_values(kColdM * kColdK, 0.5f), cold_b_values(kColdK * kColdN, 0.25f),
      cold_c(kColdM * kColdN);
  const MatrixF32 cold_a{cold_a_values.data(), kColdK, 1}, cold_b{cold_b_values.data(), kColdN, 1};

  std::vector<std::vector<float>> results(kernels.size());
  for (size_t v = 0; v < kernels.size(); ++v) {  // also packs a parameter before the timing
    kernels[v](m, n, k, a, b, c.data(), n, false);
    results[v] = c;
  }
  std::vector<std::vector<double>> rates(kernels.size());
  for (int round = 0; round < rounds; ++round)
    for (size_t turn = 0; turn < kernels.size(); ++turn) {
      const size_t v = (turn + static_cast<size_t>(round)) % kernels.size();
      int64_t calls = 0;
      double seconds = 0;
      do {
        if (cold) kernels[v](kColdM, kColdN, kColdK, cold_a, cold_b, cold_c.data(), kColdN, false);
        const auto start = std::chrono::steady_clock::now();
        kernels[v](m, n, k, a, b, c.data(), n, accumulate);
        ++calls;
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (seconds < 0.1);
      rates[v].push_back(2.0 * static_cast<double>(m * n * k * calls) / seconds / 1e9);
    }
  for (size_t v = 0; v < kernels.size(); ++v) {
    std::vector<double> sorted = rates[v];
    std::sort(sorted.begin(), sorted.end());
    double max_diff = 0;
    for (size_t i = 0; i < c.size(); ++i)
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(results[v][i] - results[0][i])));
    std::printf("kernel_ab shape=(%ld,%ld)x(%ld,%ld) b=%s a=%s precision=%s lib=%s gflops_median=%.1f range=%.1f-%.1f "
                "max_diff_from_first=%.3g\n",
                static_cast<long>(m), static_cast<long>(k), static_cast<long>(k), static_cast<long>(n), b_form.c_str(),
                a_form.c_str(), precision.c_str(), libraries[v].c_str(), sorted[sorted.size() / 2], sorted.front(),
                sorted.back(), max_diff);
  }
}
