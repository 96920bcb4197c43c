// Per-op autograd overhead: the time one recorded op costs, forward and
// backward together, on tensors so small that the arithmetic hardly counts.
//
// One step (identical in op_overhead.py, the PyTorch twin):
//   h = x
//   repeat L = 10 times:  h = tanh(h * w + b)     // 3 recorded ops per layer
//   sum(h).backward();  w.grad = b.grad = none
// with x, w, b of shape (S, S), float32; w and b require grad, x does not.
// Reported: step time / 30, in microseconds, the median over `reps`
// repetitions of `steps` steps each, after `warmup` steps.
//
// Output, one line per size:
//   op_overhead impl=tapegrad size=4 threads=2 us_per_op=1.234
//
// --table: each of add, mul, exp, sum, softmax and matmul alone on (S, S)
// float32 tensors, S in --table-sizes (16 32 64 128), without a gradient
// (forward under NoGrad) and with one (forward, sum, backward, gradients
// dropped); microseconds per call, the median over reps. One line each:
//   op_table impl=tapegrad op=add size=16 grad=1 threads=1 us=3.21
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tapegrad.h"

namespace {

struct Config {
  std::vector<int64_t> sizes = {64, 4};
  bool table = false;
  std::vector<int64_t> table_sizes = {16, 32, 64, 128};
  int layers = 10;
  int steps = 200;  // N: steps per timed repetition
  int reps = 7;     // R: repetitions; the median is reported
  int warmup = 20;
  int threads = 2;
};

struct Params {
  tg::Tensor x, w, b;  // (S, S); w and b require grad
};

Params make_params(int64_t size) {
  tg::Generator gen(1234);
  Params p;
  p.x = tg::randn({size, size}, {}, gen);
  p.w = tg::normal({size, size}, 0.0, 0.5, {}, gen).requires_grad_();
  p.b = tg::normal({size, size}, 0.0, 0.5, {}, gen).requires_grad_();
  return p;
}

// One training-like step: 3 * layers recorded ops, then backward and zeroing.
void step(const Params& p, int layers) {
  tg::Tensor h = p.x;
  for (int i = 0; i < layers; ++i) h = tg::tanh(h * p.w + p.b);
  tg::sum(h).backward();
  p.w.set_grad(tg::Tensor());
  p.b.set_grad(tg::Tensor());
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Microseconds per recorded op at one size.
double us_per_op(int64_t size, const Config& cfg) {
  const Params p = make_params(size);
  for (int i = 0; i < cfg.warmup; ++i) step(p, cfg.layers);
  std::vector<double> per_op;
  for (int r = 0; r < cfg.reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < cfg.steps; ++i) step(p, cfg.layers);
    const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    per_op.push_back(elapsed.count() / cfg.steps / (3.0 * cfg.layers));
  }
  return median(per_op);
}

// One call of `op` on a and b (S, S): the table's ops.
tg::Tensor table_op(const std::string& op, const tg::Tensor& a, const tg::Tensor& b) {
  if (op == "add") return a + b;
  if (op == "mul") return a * b;
  if (op == "exp") return tg::exp(a);
  if (op == "sum") return tg::sum(a, 1);
  if (op == "softmax") return tg::softmax(a, -1);
  return tg::matmul(a, b);
}

// Microseconds per call of `op` at one size, with or without a gradient.
double us_per_call(const std::string& op, int64_t size, bool grad, const Config& cfg) {
  tg::Generator gen(1234);
  const tg::Tensor a = tg::randn({size, size}, {}, gen).requires_grad_(grad);
  const tg::Tensor b = tg::randn({size, size}, {}, gen).requires_grad_(grad);
  auto once = [&] {
    if (!grad) {
      const tg::NoGrad no_grad;
      (void)table_op(op, a, b);
      return;
    }
    tg::sum(table_op(op, a, b)).backward();
    a.set_grad(tg::Tensor());
    b.set_grad(tg::Tensor());
  };
  const int calls = cfg.steps * 10;
  for (int i = 0; i < cfg.warmup * 10; ++i) once();
  std::vector<double> per_call;
  for (int r = 0; r < cfg.reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) once();
    const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    per_call.push_back(elapsed.count() / calls);
  }
  return median(per_call);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  CLI::App app{"Per-op autograd overhead of tapegrad (twin: bench/op_overhead.py)"};
  app.add_option("--sizes", cfg.sizes, "Side S of the (S, S) tensors")->capture_default_str();
  app.add_option("--layers", cfg.layers, "Layers per step (3 ops each)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--steps", cfg.steps, "Steps per timed repetition (N)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--reps", cfg.reps, "Timed repetitions; the median is reported (R)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", cfg.warmup, "Untimed steps first")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--threads", cfg.threads, "Threads for kernels and OpenBLAS")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--table", cfg.table, "Each op alone, with and without a gradient, at --table-sizes");
  app.add_option("--table-sizes", cfg.table_sizes, "Sides S for --table")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  tg::set_num_threads(cfg.threads);
  if (cfg.table) {
    for (const std::string op : {"add", "mul", "exp", "sum", "softmax", "matmul"})
      for (int64_t size : cfg.table_sizes)
        for (bool grad : {false, true})
          fmt::print("op_table impl=tapegrad op={} size={} grad={} threads={} us={:.3f}\n", op, size, grad ? 1 : 0,
                     cfg.threads, us_per_call(op, size, grad, cfg));
    return 0;
  }
  for (int64_t size : cfg.sizes)
    fmt::print("op_overhead impl=tapegrad size={} threads={} us_per_op={:.3f}\n", size, cfg.threads,
               us_per_op(size, cfg));
  return 0;
}
