// The fused GRU gate op (ops/gru_gates.h) against the same step written with
// separate ops (slices, adds, sigmoid, tanh, muls), forward and backward over
// a sequence, in one run so that both see the same machine.
//
// One step, as in nn::gru_step:  gh = h W_hhᵀ + b_hh;  h = gates(gi_t, gh, h)
// over T steps of a (T, B, 3H) input projection, then sum(h_T).backward().
//
// Output, one line per variant, medians over `reps` repetitions:
//   gru_step variant=fused batch=64 hidden=512 steps=30 threads=2 ms_per_sequence=12.3
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "tapegrad.h"

namespace {

using namespace tg;

// The gate arithmetic as nn/recurrent/gru_cell.cpp wrote it before the fused op.
Tensor composed_gates(const Tensor& gi, const Tensor& gh, const Tensor& h) {
  const int64_t H = h.size(1);
  const Tensor rz = sigmoid(slice(gi, 1, 0, 2 * H) + slice(gh, 1, 0, 2 * H));
  const Tensor r = slice(rz, 1, 0, H), z = slice(rz, 1, H, 2 * H);
  const Tensor n = tanh(slice(gi, 1, 2 * H, 3 * H) + r * slice(gh, 1, 2 * H, 3 * H));
  return n + z * (h - n);
}

double run_sequence(bool fused, const Tensor& gi_all, const Tensor& w_hh_t, const Tensor& b_hh, const Tensor& h0) {
  const auto start = std::chrono::steady_clock::now();
  Tensor h = h0;
  for (int64_t t = 0; t < gi_all.size(0); ++t) {
    const Tensor gi = select(gi_all, 0, t);
    const Tensor gh = matmul(h, w_hh_t) + b_hh;
    h = fused ? gru_gates(gi, gh, h) : composed_gates(gi, gh, h);
  }
  sum(h).backward();
  for (const Tensor* p : {&gi_all, &w_hh_t, &b_hh}) p->set_grad(Tensor());
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int64_t batch = 64, hidden = 512, steps = 30;
  int reps = 15, threads = 2;
  CLI::App app{"Fused GRU gates against composed ops: forward and backward over a sequence"};
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--hidden", hidden)->capture_default_str();
  app.add_option("--steps", steps)->capture_default_str();
  app.add_option("--reps", reps, "Repetitions per variant, alternating; medians reported")->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  Generator gen(7);
  const Tensor gi_all = normal({steps, batch, 3 * hidden}, 0, 1, {}, gen).requires_grad_();
  const Tensor w_hh_t = normal({hidden, 3 * hidden}, 0, 0.05, {}, gen).requires_grad_();
  const Tensor b_hh = normal({3 * hidden}, 0, 0.1, {}, gen).requires_grad_();
  const Tensor h0 = zeros({batch, hidden});
  std::vector<double> times[2];
  for (int i = 0; i < 2; ++i) run_sequence(i == 1, gi_all, w_hh_t, b_hh, h0);  // warm-up
  for (int r = 0; r < reps; ++r)
    for (int variant = 0; variant < 2; ++variant)
      times[variant].push_back(run_sequence(variant == 1, gi_all, w_hh_t, b_hh, h0));
  for (int variant = 0; variant < 2; ++variant) {
    std::sort(times[variant].begin(), times[variant].end());
    fmt::print("gru_step variant={} batch={} hidden={} steps={} threads={} ms_per_sequence={:.3f}\n",
               variant == 1 ? "fused" : "composed", batch, hidden, steps, threads, times[variant][reps / 2]);
  }
}
