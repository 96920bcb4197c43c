// Matrix product speed: tg::matmul (forward, float32, no grad) against a direct
// cblas_sgemm call on the same operands, in GFLOP/s (2·M·N·K flops a product).
//
// tg::matmul allocates its output on every call (through the caching host
// allocator) and goes through the op and backend layers; the direct call
// writes into one reused buffer. That difference is what a user pays, so it
// stays in.
//
// Both sides get `--threads` threads, each its own way: tapegrad as
// tg::set_num_threads configures it (OpenMP), the direct call through
// OpenBLAS's threading (openblas_set_num_threads), set before each timed
// block. The two are timed alternately, repetition by repetition, so that
// noise from other work on the machine hits both alike; each figure is the
// median over the repetitions. Each timed block starts after a pause
// (--settle-ms) so that the other side's thread pool, which spins for a
// while after its last job, is asleep and does not steal the cores.
//
// --precision bf16 times tapegrad's bfloat16 products (float32 sums) against
// OpenBLAS's float32 ones; rel_diff then shows bfloat16's rounding.
//
// --b parameter makes B a parameter (a leaf that requires grad), whose
// bfloat16 packing the cpu backend keeps between products; --b parameter_t
// makes it a parameter's transpose (a recurrent step's h·W_hhᵀ: W (N, K)
// read as Wᵀ, OpenBLAS with CblasTrans). --b tensor (default) and tensor_t:
// a plain tensor, packed on every call.
//
// Output, one line per shape:
//   matmul shape=(64,64)x(64,64) tapegrad_gflops=.. openblas_gflops=.. ratio=.. rel_diff=..
#include <cblas.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_gemm.h"

#include "tapegrad.h"

namespace {

struct Config {
  int reps = 9;              // timed repetitions of each side; medians reported
  double min_seconds = 0.05; // each repetition runs at least this long
  int threads = 2;
  int settle_ms = 100;  // pause after switching sides, so the other side's spinning threads sleep
  std::vector<int64_t> mkn;  // one problem (M K N) instead of the default list
  std::string precision = "fp32";  // tapegrad's side: tg::MatmulPrecision (bf16: the AVX512-BF16 kernel where built),
                                   // or int8: tg::Int8Linear with Bᵀ as its weight (quantized once, outside the timing)
  std::string b_operand = "tensor";  // tensor, parameter; tensor_t, parameter_t: the transpose of one
};

// A (m, k) @ B (k, n)
struct Problem {
  int64_t m, k, n;
};

std::vector<Problem> default_problems() {
  std::vector<Problem> problems;
  for (int64_t s : {64, 128, 256, 512, 1024}) problems.push_back({s, s, s});
  problems.push_back({64 * 30, 512, 1536});  // translation model: (batch*time, d) x (d, 3·hidden)
  problems.push_back({64, 512, 10000});      // translation model: output projection to the vocabulary
  return problems;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

template <typename Fn>
double seconds_for(int iterations, Fn&& fn) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) fn();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count();
}

struct Result {
  double tapegrad_gflops, openblas_gflops;
  double rel_diff;  // max |tapegrad - OpenBLAS| / max |OpenBLAS|
};

Result compare(const Problem& p, const Config& cfg) {
  tg::Generator gen(42);
  const tg::Tensor a = tg::randn({p.m, p.k}, {}, gen);  // (M, K)
  const bool transposed = cfg.b_operand.ends_with("_t");
  tg::Tensor stored = transposed ? tg::randn({p.n, p.k}, {}, gen) : tg::randn({p.k, p.n}, {}, gen);
  if (cfg.b_operand.starts_with("parameter")) stored.requires_grad_();
  const tg::Tensor b = transposed ? tg::transpose(stored, 0, 1) : stored;  // (K, N)
  const tg::Tensor c = tg::Tensor::empty({p.m, p.n});   // (M, N), reused by the direct call
  const float* a_data = a.data<float>();
  const float* b_data = stored.data<float>();
  float* c_data = c.data<float>();
  const int m = static_cast<int>(p.m), k = static_cast<int>(p.k), n = static_cast<int>(p.n);

  // Each side with its threading configured; tapegrad's may keep OpenBLAS
  // single-threaded and split the product itself.
  const auto settle = std::chrono::milliseconds(cfg.settle_ms);
  const bool int8 = cfg.precision == "int8";
  const tg::Int8Linear int8_layer = int8 ? tg::Int8Linear::quantize(tg::transpose(b, 0, 1).contiguous()) : tg::Int8Linear();
  const tg::MatmulPrecision float_precision =
      int8 ? tg::MatmulPrecision::fp32 : tg::parse_matmul_precision(cfg.precision, "--precision");
  auto product = [&] { return int8 ? int8_layer(a) : tg::matmul(a, b); };
  auto time_tapegrad = [&](int iterations) {
    tg::set_num_threads(cfg.threads);
    std::this_thread::sleep_for(settle);
    const tg::MatmulPrecisionGuard precision(float_precision);
    return seconds_for(iterations, [&] { tg::Tensor out = product(); });
  };
  auto time_openblas = [&](int iterations) {
    openblas_set_num_threads(cfg.threads);
    std::this_thread::sleep_for(settle);
    return seconds_for(iterations, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, transposed ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a_data, k,
                  b_data, transposed ? k : n, 0.0f, c_data, n);
    });
  };

  // Same answer from both (sanity), then warm caches and thread pools.
  time_openblas(1);
  tg::set_num_threads(cfg.threads);
  const std::vector<float> got = [&] {
    const tg::MatmulPrecisionGuard precision(float_precision);
    return product().to_vector<float>();
  }();
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(static_cast<double>(got[i]) - c_data[i]));
    max_ref = std::max(max_ref, std::abs(static_cast<double>(c_data[i])));
  }

  const double one_call = std::max(time_openblas(3) / 3, 1e-9);
  const int iterations = std::max(1, static_cast<int>(std::ceil(cfg.min_seconds / one_call)));
  time_tapegrad(iterations);

  const double flops = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
  std::vector<double> tapegrad_gflops, openblas_gflops;
  for (int r = 0; r < cfg.reps; ++r) {
    // Alternate which side goes first so neither always follows the other.
    const bool tapegrad_first = r % 2 == 0;
    double t_tapegrad = 0, t_openblas = 0;
    if (tapegrad_first) t_tapegrad = time_tapegrad(iterations);
    t_openblas = time_openblas(iterations);
    if (!tapegrad_first) t_tapegrad = time_tapegrad(iterations);
    tapegrad_gflops.push_back(flops * iterations / t_tapegrad / 1e9);
    openblas_gflops.push_back(flops * iterations / t_openblas / 1e9);
  }
  return {median(tapegrad_gflops), median(openblas_gflops), max_ref > 0 ? max_diff / max_ref : max_diff};
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  CLI::App app{"GFLOP/s of tg::matmul against a direct cblas_sgemm call"};
  app.add_option("--reps", cfg.reps, "Timed repetitions of each side; medians reported")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--min-seconds", cfg.min_seconds, "Least duration of one repetition")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--threads", cfg.threads, "Threads for kernels and OpenBLAS")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--settle-ms", cfg.settle_ms, "Pause before each timed block, after switching sides")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--mkn", cfg.mkn, "Only this problem: M K N for (M, K) x (K, N)")->expected(3)->check(CLI::PositiveNumber);
  app.add_option("--precision", cfg.precision, "tapegrad's product precision: fp32, tf32, bf16, fp16, or int8 (Int8Linear; OpenBLAS: float32)")
      ->capture_default_str();
  app.add_option("--b", cfg.b_operand, "B as a plain tensor or a parameter; _t: its transpose (a step's W_hhᵀ)")
      ->check(CLI::IsMember({"tensor", "tensor_t", "parameter", "parameter_t"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const std::vector<Problem> problems =
      cfg.mkn.empty() ? default_problems() : std::vector<Problem>{{cfg.mkn[0], cfg.mkn[1], cfg.mkn[2]}};

  tg::set_num_threads(cfg.threads);
  tg::NoGrad no_grad;
  fmt::print("# matmul, forward only, tapegrad at precision {} (OpenBLAS float32), B a {}, threads={} (both sides), "
             "reps={}: median GFLOP/s\n", cfg.precision, cfg.b_operand, cfg.threads, cfg.reps);
  // Which float32 product tapegrad runs here (TG_SGEMM forces one): named so that a figure says what it measured.
  fmt::print("# float32 products: {}\n", tg::cpu::use_own_sgemm()
                                                ? std::string("the own kernel (AVX-512, backends/cpu/cpu_gemm.h)")
                                                : fmt::format("OpenBLAS ({} core)", openblas_get_corename()));
  fmt::print("# {:<24} {:>10} {:>10} {:>7}\n", "shape (M,K)x(K,N)", "tapegrad", "OpenBLAS", "ratio");
  for (const Problem& p : problems) {
    const Result r = compare(p, cfg);
    const std::string shape = fmt::format("({},{})x({},{})", p.m, p.k, p.k, p.n);
    fmt::print("matmul shape={:<24} tapegrad_gflops={:<8.2f} openblas_gflops={:<8.2f} ratio={:.3f} rel_diff={:.1e}\n",
               shape, r.tapegrad_gflops, r.openblas_gflops, r.tapegrad_gflops / r.openblas_gflops,
               r.rel_diff);
    std::fflush(stdout);
  }
  return 0;
}
