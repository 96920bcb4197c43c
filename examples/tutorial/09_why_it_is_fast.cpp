// Chapter 9 of the tutorial (docs/tutorial/09-why-it-is-fast.md): from the
// triple loop to the cpu backend's product, each step measured in GFLOP/s
// against the machine's limit (a multiply-add loop with nothing loaded), a
// roofline of the library's own kernels against that limit and the memory
// bandwidth, what a training step spends (the op profiler), and what fusing
// the GRU gates saves. Writes products.svg and roofline.svg. The times are
// printed, never asserted; it exits 1 only when a result is wrong.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "09_products.h"
#include "io/text_file.h"
#include "plot/svg.h"
#include "tutorial_checks.h"

using tutorial::expect;
using tutorial::max_abs_diff;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The best of `reps` runs of `work`, in seconds: the least disturbed by the rest of the machine.
double best_seconds(int reps, const std::function<void()>& work) {
  double best = INFINITY;
  for (int r = 0; r < reps; ++r) {
    const Clock::time_point start = Clock::now();
    work();
    best = std::min(best, seconds_since(start));
  }
  return best;
}

// [tutorial:peak]
// The limit: 12 independent chains of 16-float multiply-adds (enough to keep
// every multiply-add unit busy while each chain waits for its last result),
// nothing loaded or stored; on `threads` threads at once. GFLOP/s of all.
using Wide = float __attribute__((vector_size(16 * sizeof(float))));
double peak_gflops(int threads) {
  constexpr int64_t kRounds = 30'000'000;  // about 0.1 s a thread: long enough for both cores to be running
  constexpr int kChains = 12;
  std::atomic<float> sink{0};  // the results are used, so the loop is not removed
  auto spin = [&] {
    Wide acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = Wide{} + static_cast<float>(c) * 1e-3f;
    const Wide x = Wide{} + 0.999999f, y = Wide{} + 1e-7f;
    for (int64_t r = 0; r < kRounds; ++r)
      for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * x + y;
    float total = 0;
    for (int c = 0; c < kChains; ++c) total += acc[c][0];
    sink = sink + total;
  };
  const double seconds = best_seconds(3, [&] {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back(spin);
    for (std::thread& w : workers) w.join();
  });
  return 2.0 * 16 * kChains * static_cast<double>(kRounds) * threads / seconds / 1e9;
}
// [/tutorial:peak]

double max_relative_diff(const std::vector<float>& x, const std::vector<float>& reference) {
  double worst = 0, scale = 0;
  for (float r : reference) scale = std::max(scale, static_cast<double>(std::abs(r)));
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(x[i]) - reference[i]));
  return worst / scale;
}

std::vector<tg::plot::Bar> product_steps(int threads, double peak) {
  const int64_t n = 480;  // a multiple of the tile's 6 rows and 16 columns
  const double flops = 2.0 * n * n * n;
  tg::Generator gen(1);
  const tg::Tensor a_t = tg::randn({n, n}, {}, gen), b_t = tg::randn({n, n}, {}, gen);
  const std::vector<float> a = a_t.to_vector<float>(), b = b_t.to_vector<float>();
  std::vector<float> reference(static_cast<size_t>(n * n)), c(static_cast<size_t>(n * n));
  std::vector<tg::plot::Bar> bars;
  fmt::print("\nC = A @ B, n = {}, float32 ({:.0f} MFLOP); the limit on {} threads: {:.1f} GFLOP/s\n", n, flops / 1e6,
             threads, peak);
  fmt::print("{:<34} {:>10} {:>9} {:>9}\n", "step", "GFLOP/s", "of limit", "speed-up");
  auto measure = [&](const std::string& name, int reps, const std::function<void()>& work, bool is_reference) {
    const double gflops = flops / best_seconds(reps, work) / 1e9;
    const double speedup = bars.empty() ? 1.0 : gflops / bars.front().value;
    fmt::print("{:<34} {:>10.2f} {:>8.1f}% {:>8.1f}x\n", name, gflops, 100 * gflops / peak, speedup);
    bars.push_back({name, gflops});
    if (!is_reference) {
      const double diff = max_relative_diff(c, reference);
      expect(diff < 1e-5, fmt::format("{}: the same product as the triple loop (largest difference {:.1e} of the "
                                      "largest element)",
                                      name, diff));
    }
  };
  measure("1. triple loop", 2, [&] { speed::naive(a.data(), b.data(), reference.data(), n); }, true);
  measure("2. loops reordered (i, k, j)", 3, [&] { speed::reordered(a.data(), b.data(), c.data(), n); }, false);
  measure("3. blocked for the cache (k 64)", 3, [&] { speed::blocked(a.data(), b.data(), c.data(), n, 64); }, false);
  measure("4. packed B, 6x16 register tile", 3, [&] { speed::packed(a.data(), b.data(), c.data(), n); }, false);
  measure(fmt::format("5. step 4 on {} threads", threads), 10,
          [&] { speed::threaded(a.data(), b.data(), c.data(), n, threads); }, false);
  // [tutorial:library]
  // 6. The library: tg::matmul on the cpu backend (its own AVX-512 kernel
  // where the processor has one, OpenBLAS's sgemm elsewhere).
  tg::Tensor product;
  measure("6. tg::matmul", 10, [&] { product = tg::matmul(a_t, b_t); }, true);
  // [/tutorial:library]
  c = product.to_vector<float>();
  const double diff = max_relative_diff(c, reference);
  expect(diff < 1e-5, fmt::format("6. tg::matmul: the same product (largest difference {:.1e})", diff));
  return bars;
}

// [tutorial:roofline]
// Where the library's kernels stand against the two limits: an elementwise
// add moves 12 bytes per FLOP, a matrix-vector product 2 (each weight read
// once, used once), a matrix product of size n at least 12n² bytes for 2n³
// FLOPs. The memory roof is the add's own bandwidth on long vectors.
struct Roofline {
  double bandwidth_gbs;
  std::vector<tg::plot::RooflinePoint> points;
};
Roofline measure_roofline() {
  tg::Generator gen(2);
  const int64_t len = 1 << 24;  // 64 MiB per vector: far past the caches
  const tg::Tensor x = tg::randn({len}, {}, gen), y = tg::randn({len}, {}, gen);
  const double add_s = best_seconds(5, [&] { tg::add(x, y); });
  const double bandwidth = 12.0 * static_cast<double>(len) / add_s / 1e9;  // read x and y, write the sum
  const int64_t m = 4096;
  const tg::Tensor w = tg::randn({m, m}, {}, gen), v = tg::randn({m}, {}, gen);
  const double mv_s = best_seconds(5, [&] { tg::matmul(w, v); });
  const int64_t n = 1024;
  const tg::Tensor a = tg::randn({n, n}, {}, gen), b = tg::randn({n, n}, {}, gen);
  const double mm_s = best_seconds(5, [&] { tg::matmul(a, b); });
  return {bandwidth,
          {{"add", 1.0 / 12, static_cast<double>(len) / add_s / 1e9},
           {"matrix-vector", 0.5, 2.0 * m * m / mv_s / 1e9},
           {"matmul n=1024", 2.0 * n / 12, 2.0 * n * n * n / mm_s / 1e9}}};
}
// [/tutorial:roofline]

// [tutorial:composed_gates]
// The GRU's gates from separate ops (chapter 3), against the fused op
// tg::gru_gates that computes them in one pass over memory:
//   r, z = σ(gi_rz + gh_rz);  n = tanh(gi_n + r ⊙ gh_n);  h' = n + z ⊙ (h − n)
tg::Tensor composed_gates(const tg::Tensor& gi, const tg::Tensor& gh, const tg::Tensor& h) {
  const int64_t H = h.size(1);
  const tg::Tensor rz = tg::sigmoid(tg::slice(gi, 1, 0, 2 * H) + tg::slice(gh, 1, 0, 2 * H));
  const tg::Tensor r = tg::slice(rz, 1, 0, H), z = tg::slice(rz, 1, H, 2 * H);
  const tg::Tensor n = tg::tanh(tg::slice(gi, 1, 2 * H, 3 * H) + r * tg::slice(gh, 1, 2 * H, 3 * H));
  return n + z * (h - n);
}
// [/tutorial:composed_gates]

// A GRU over a sequence, step by step, its gates fused or composed: the last state and
// the gradient of the recurrent weight.
std::pair<tg::Tensor, tg::Tensor> gru_sequence(bool fused, const tg::Tensor& gi_all, const tg::Tensor& w_hh,
                                               const tg::Tensor& h0) {
  tg::Tensor h = h0;
  const tg::Tensor w_t = tg::transpose(w_hh, 0, 1);
  for (int64_t t = 0; t < gi_all.size(0); ++t) {
    const tg::Tensor gi = tg::select(gi_all, 0, t), gh = tg::matmul(h, w_t);
    h = fused ? tg::gru_gates(gi, gh, h) : composed_gates(gi, gh, h);
  }
  tg::sum(h).backward();
  const tg::Tensor grad = w_hh.grad();
  w_hh.set_grad(tg::Tensor());
  return {h, grad};
}

void fusing(int threads) {
  const int64_t T = 30, B = 64, H = 256;
  tg::Generator gen(3);
  const tg::Tensor gi_all = tg::randn({T, B, 3 * H}, {}, gen);
  tg::Tensor w = tg::randn({3 * H, H}, {}, gen) * 0.05;  // W_hh, small enough that the state does not saturate
  w.requires_grad_();
  const tg::Tensor h0 = tg::zeros({B, H});

  fmt::print("\nA GRU over {} steps (batch {}, hidden {}), forward and backward, {} threads:\n", T, B, H, threads);
  for (bool fused : {false, true}) {
    tg::Profiler profiler;
    gru_sequence(fused, gi_all, w, h0);
    profiler.stop();
    int64_t recorded = 0;
    for (const tg::ProfileRow& row : profiler.report()) recorded += row.saved_calls;
    fmt::print("\n{} gates: {} nodes on the tape; the ops by time:\n{}", fused ? "fused" : "composed", recorded,
               profiler.format_table(6));
  }
  const double composed_s = best_seconds(5, [&] { gru_sequence(false, gi_all, w, h0); });
  const double fused_s = best_seconds(5, [&] { gru_sequence(true, gi_all, w, h0); });
  fmt::print("\ncomposed {:.2f} ms, fused {:.2f} ms per sequence: the fused gates take {:.2f}x less time\n",
             1e3 * composed_s, 1e3 * fused_s, composed_s / fused_s);
  const auto [h_composed, g_composed] = gru_sequence(false, gi_all, w, h0);
  const auto [h_fused, g_fused] = gru_sequence(true, gi_all, w, h0);
  const double dh = max_relative_diff(h_fused.to_vector<float>(), h_composed.to_vector<float>());
  const double dg = max_relative_diff(g_fused.to_vector<float>(), g_composed.to_vector<float>());
  expect(dh < 1e-5 && dg < 1e-4,
         fmt::format("fused and composed gates: the same last state ({:.1e}) and recurrent-weight gradient ({:.1e})",
                     dh, dg));
}

}  // namespace

int main() {
  const int threads = 2;
  tg::set_num_threads(threads);
  const double peak_one = peak_gflops(1), peak = peak_gflops(threads);
  fmt::print("the limit: {:.1f} GFLOP/s on one thread, {:.1f} on {}\n", peak_one, peak, threads);
  const std::vector<tg::plot::Bar> bars = product_steps(threads, peak);
  tg::write_text_file("products.svg",
                      tg::plot::bar_chart_svg(bars, "C = A @ B, n = 480, float32: each step's GFLOP/s", "GFLOP/s",
                                              peak, fmt::format("limit on {} threads", threads)));
  const Roofline roof = measure_roofline();
  fmt::print("\nmemory bandwidth (tg::add on 64 MiB vectors): {:.1f} GB/s\n", roof.bandwidth_gbs);
  for (const tg::plot::RooflinePoint& p : roof.points)
    fmt::print("{:<15} {:>7.3f} FLOP/byte {:>8.2f} GFLOP/s, the roof there {:.2f}\n", p.label, p.intensity, p.gflops,
               std::min(peak, roof.bandwidth_gbs * p.intensity));
  tg::write_text_file("roofline.svg", tg::plot::roofline_svg(peak, roof.bandwidth_gbs, roof.points,
                                                             fmt::format("The library's kernels, {} threads", threads)));
  fusing(threads);
  fmt::print("wrote products.svg and roofline.svg\n");
  return tutorial::exit_status();
}
