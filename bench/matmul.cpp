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
// --b-written (with a parameter B) bumps B's version before each of
// tapegrad's products, as an optimizer's write does, so that each packs B
// again: against the same run without it, what packing a weight costs.
//
// --a tensor_t makes A the transpose of a stored (K, M) tensor (a weight
// gradient's Xᵀ).
//
// --choose times tg::matmul on the own kernel against tg::matmul on OpenBLAS
// (backends/cpu/sgemm_choice.h), alternately, at a Bahdanau training and
// decoding step's product shapes (batch 64, beam 5), for each product form
// (A in place, A transposed), and prints the faster kernel of each form as
// the row that backends/cpu/sgemm_choice.cpp's table holds for this processor.
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

#include "core/tensor/compute.h"  // mark_written: --b-written
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
  std::string a_operand = "tensor";  // tensor, or tensor_t: the transpose of a stored (K, M) tensor
  bool b_written = false;  // B's version bumped before each of tapegrad's products: packed again each time
  bool choose = false;
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

// A (M, K): a plain tensor, or (tensor_t) the transpose of a stored (K, M) one.
tg::Tensor make_a(const Problem& p, const std::string& operand, tg::Generator& gen) {
  if (operand == "tensor_t") return tg::transpose(tg::randn({p.k, p.m}, {}, gen), 0, 1);
  return tg::randn({p.m, p.k}, {}, gen);
}

// B (K, N): a plain tensor or a parameter; _t: the transpose of a stored (N, K) one.
tg::Tensor make_b(const Problem& p, const std::string& operand, tg::Generator& gen) {
  const bool transposed = operand.ends_with("_t");
  tg::Tensor stored = transposed ? tg::randn({p.n, p.k}, {}, gen) : tg::randn({p.k, p.n}, {}, gen);
  if (operand.starts_with("parameter")) stored.requires_grad_();
  return transposed ? tg::transpose(stored, 0, 1) : stored;
}

Result compare(const Problem& p, const Config& cfg) {
  tg::Generator gen(42);
  const tg::Tensor a = make_a(p, cfg.a_operand, gen);  // (M, K)
  const bool a_transposed = cfg.a_operand.ends_with("_t"), transposed = cfg.b_operand.ends_with("_t");
  const tg::Tensor b = make_b(p, cfg.b_operand, gen);  // (K, N)
  // What each view reads: the direct call takes the stored matrices with CblasTrans where transposed.
  const tg::Tensor a_stored = a_transposed ? tg::transpose(a, 0, 1) : a, stored = transposed ? tg::transpose(b, 0, 1) : b;
  const tg::Tensor c = tg::Tensor::empty({p.m, p.n});   // (M, N), reused by the direct call
  const float* a_data = a_stored.data<float>();
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
  auto product = [&] {
    if (cfg.b_written) tg::compute::mark_written(b);
    return int8 ? int8_layer(a) : tg::matmul(a, b);
  };
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
      cblas_sgemm(CblasRowMajor, a_transposed ? CblasTrans : CblasNoTrans, transposed ? CblasTrans : CblasNoTrans, m, n,
                  k, 1.0f, a_data, a_transposed ? m : k,
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


// One product of a step: its shape, its operands' forms and what it is.
struct StepProduct {
  Problem p;
  const char* a_operand;
  const char* b_operand;
  const char* what;
};

// The Bahdanau model's products (batch 64, E 256, H 512, V 5921, target length 19, beam 5), as the product
// census of bench_seq2seq --products lists them.
std::vector<StepProduct> step_products() {
  return {
      {{64, 512, 1536}, "tensor", "parameter_t", "recurrent step h W_hhᵀ"},
      {{64, 1536, 512}, "tensor", "parameter", "its input gradient dg W_hh"},
      {{64, 1024, 1536}, "tensor", "parameter_t", "context into the gates c W_icᵀ"},
      {{64, 1792, 5921}, "tensor", "parameter_t", "greedy step's output layer"},
      {{320, 1792, 5921}, "tensor", "parameter_t", "beam step's output layer"},
      {{1216, 1792, 5921}, "tensor", "parameter_t", "training logits"},
      {{1216, 5921, 1792}, "tensor", "parameter", "their input gradient"},
      {{1536, 64, 512}, "tensor_t", "tensor", "W_hh's gradient, a step: dgᵀ h"},
      {{1536, 64, 1024}, "tensor_t", "tensor", "W_ic's gradient, a step"},
      {{5921, 1216, 1792}, "tensor_t", "tensor", "the output layer's gradient"},
  };
}

// Times tg::matmul on each kernel at each step product, alternately; prints each shape and, per form, the
// geometric mean of own / OpenBLAS and the faster kernel: the measured row for sgemm_choice.cpp.
int choose(const Config& cfg) {
  using tg::cpu::SgemmKernel;
  if (!tg::cpu::own_sgemm_runs_here()) {
    fmt::print("# --choose: this build or processor has no own kernel; OpenBLAS runs every product\n");
    return 0;
  }
  const std::string previous = tg::cpu::sgemm_choice().source;
  fmt::print("# tg::matmul on the own kernel against OpenBLAS ({} core), threads={}, reps={}: median GFLOP/s\n",
             openblas_get_corename(), cfg.threads, cfg.reps);
  fmt::print("# this process's choice before measuring: {}\n", previous);
  double log_ratio[2] = {0, 0};
  int shapes[2] = {0, 0};
  for (const StepProduct& product : step_products()) {
    tg::Generator gen(42);
    const tg::Tensor a = make_a(product.p, product.a_operand, gen), b = make_b(product.p, product.b_operand, gen);
    auto time_on = [&](SgemmKernel kernel, int iterations) {
      tg::cpu::set_sgemm_choice(tg::cpu::SgemmChoice{kernel, kernel, "bench_matmul --choose"});
      std::this_thread::sleep_for(std::chrono::milliseconds(cfg.settle_ms));
      return seconds_for(iterations, [&] { tg::Tensor out = tg::matmul(a, b); });
    };
    time_on(SgemmKernel::own, 1);  // a parameter's packing is made here, then kept
    const int iterations =
        std::max(1, static_cast<int>(std::ceil(cfg.min_seconds / std::max(time_on(SgemmKernel::openblas, 1), 1e-9))));
    std::vector<double> own, openblas;
    const double flops = 2.0 * double(product.p.m) * double(product.p.n) * double(product.p.k);
    for (int r = 0; r < cfg.reps; ++r) {
      const bool own_first = r % 2 == 0;
      double t_own = 0, t_openblas = 0;
      if (own_first) t_own = time_on(SgemmKernel::own, iterations);
      t_openblas = time_on(SgemmKernel::openblas, iterations);
      if (!own_first) t_own = time_on(SgemmKernel::own, iterations);
      own.push_back(flops * iterations / t_own / 1e9);
      openblas.push_back(flops * iterations / t_openblas / 1e9);
    }
    const bool transposed = std::string(product.a_operand).ends_with("_t");
    const double ratio = median(own) / median(openblas);
    log_ratio[transposed] += std::log(ratio);
    shapes[transposed] += 1;
    fmt::print("choose form={} shape=({},{})x({},{}) b={} own_gflops={:.1f} openblas_gflops={:.1f} ratio={:.3f}  # {}\n",
               transposed ? "a_transposed" : "a_in_place", product.p.m, product.p.k, product.p.k, product.p.n,
               product.b_operand, median(own), median(openblas), ratio, product.what);
  }
  tg::cpu::set_sgemm_choice(std::nullopt);
  SgemmKernel faster[2];
  for (int form = 0; form < 2; ++form) {
    const double mean = std::exp(log_ratio[form] / shapes[form]);
    faster[form] = mean >= 1 ? SgemmKernel::own : SgemmKernel::openblas;
    fmt::print("choose form={} geomean_own_over_openblas={:.3f} faster={}\n", form ? "a_transposed" : "a_in_place",
               mean, tg::cpu::sgemm_kernel_name(faster[form]));
  }
  const tg::cpu::Processor here = tg::cpu::this_processor();
  fmt::print("# the row for backends/cpu/sgemm_choice.cpp:\n    {{\"{}\", {}, {}, \"{}\", SgemmKernel::{}, SgemmKernel::{}, \"<date>\"}},\n",
             here.vendor, here.family, here.model, openblas_get_corename(),
             tg::cpu::sgemm_kernel_name(faster[0]), tg::cpu::sgemm_kernel_name(faster[1]));
  return 0;
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
  app.add_option("--a", cfg.a_operand, "A as a plain tensor, or tensor_t: the transpose of one (a weight gradient's Xᵀ)")
      ->check(CLI::IsMember({"tensor", "tensor_t"}))
      ->capture_default_str();
  app.add_flag("--b-written", cfg.b_written,
               "bump B's version (a parameter's) before each tapegrad product, so each packs B again");
  app.add_flag("--choose", cfg.choose,
               "time tg::matmul on the own kernel and on OpenBLAS at a training and decoding step's shapes; print the "
               "faster kernel of each form (A in place, A transposed): sgemm_choice.cpp's row for this processor");
  CLI11_PARSE(app, argc, argv);
  if (cfg.b_written && !cfg.b_operand.starts_with("parameter")) {
    fmt::print(stderr, "--b-written: B must be a parameter (--b parameter or parameter_t), got --b {}\n", cfg.b_operand);
    return 2;
  }
  const std::vector<Problem> problems =
      cfg.mkn.empty() ? default_problems() : std::vector<Problem>{{cfg.mkn[0], cfg.mkn[1], cfg.mkn[2]}};

  tg::set_num_threads(cfg.threads);
  tg::NoGrad no_grad;
  if (cfg.choose) return choose(cfg);
  fmt::print("# matmul, forward only, tapegrad at precision {} (OpenBLAS float32), B a {}{}, threads={} (both sides), "
             "reps={}: median GFLOP/s\n", cfg.precision, cfg.b_operand, cfg.b_written ? " written before each product" : "",
             cfg.threads, cfg.reps);
  // Which float32 product tapegrad runs here (TG_SGEMM forces one): named so that a figure says what it measured.
  const tg::cpu::SgemmChoice& choice = tg::cpu::sgemm_choice();
  fmt::print("# float32 products: {} with A in place, {} with A transposed (OpenBLAS's core: {}; {})\n",
             tg::cpu::sgemm_kernel_name(choice.a_in_place), tg::cpu::sgemm_kernel_name(choice.a_transposed),
             openblas_get_corename(), choice.source);
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
