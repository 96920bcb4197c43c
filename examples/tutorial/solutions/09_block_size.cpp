// Chapter 9, exercise: the best block size on this machine, for step 3
// (blocked for the cache) and for step 4's depth (the rows of k one packed
// panel holds), at n = 1008, where a float32 B is 3.9 MiB, more than a core's
// L2 cache on most processors. Step 3 sums each element in the same order
// (k ascending) whatever the block, so its results must equal the unblocked
// ones exactly; step 4 adds each block's tile into C, so its results may
// differ in the last bits between depths (within 1e-5 of the largest
// element). The speeds are printed, not asserted. Exits 1 if a result is wrong.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <vector>

#include "../09_products.h"

namespace {
double gflops(int64_t n, const std::function<void()>& product) {
  double seconds = 1e30;
  for (int rep = 0; rep < 2; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    product();
    seconds = std::min(seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 2.0 * static_cast<double>(n * n * n) / seconds / 1e9;
}
}  // namespace

int main() {
  // A multiple of the tile's 6 rows and 16 columns. Under the sanitizers (scripts/test.sh --sanitize) the
  // speeds mean nothing and a product of 1008 takes minutes: the results are checked on n = 240 there.
  const int64_t n = std::getenv("TAPEGRAD_SANITIZE") != nullptr ? 240 : 1008;
  tg::Generator gen(4);
  const std::vector<float> a = tg::randn({n, n}, {}, gen).to_vector<float>();
  const std::vector<float> b = tg::randn({n, n}, {}, gen).to_vector<float>();
  std::vector<float> reference(static_cast<size_t>(n * n)), c(static_cast<size_t>(n * n));
  speed::reordered(a.data(), b.data(), reference.data(), n);
  double largest = 0;
  for (float r : reference) largest = std::max(largest, static_cast<double>(std::abs(r)));
  int failures = 0;

  fmt::print("step 3, blocked for the cache\n{:>6} {:>10} {:>14}\n", "block", "GFLOP/s", "rows of B hold");
  for (int64_t block : {4, 16, 64, 256, 1008}) {
    const double speed = gflops(n, [&] { speed::blocked(a.data(), b.data(), c.data(), n, block); });
    const bool same = c == reference;
    fmt::print("{:>6} {:>10.2f} {:>10} KiB{}\n", block, speed, block * n * 4 / 1024, same ? "" : "  FAIL: differs");
    failures += !same;
  }

  fmt::print("step 4, the packed panel's depth\n{:>6} {:>10} {:>14}\n", "depth", "GFLOP/s", "panel holds");
  int64_t best_depth = 0;
  double best = 0;
  for (int64_t depth : {16, 64, 256, 1008}) {
    const double speed = gflops(n, [&] { speed::packed(a.data(), b.data(), c.data(), n, depth); });
    double worst = 0;
    for (size_t i = 0; i < c.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(c[i]) - reference[i]));
    const bool close = worst <= 1e-5 * largest;
    fmt::print("{:>6} {:>10.2f} {:>10} KiB{}\n", depth, speed, depth * speed::kTileCols * 4 / 1024,
               close ? "" : "  FAIL: differs");
    failures += !close;
    if (speed > best) best = speed, best_depth = depth;
  }
  fmt::print("best depth here: {} ({:.2f} GFLOP/s on one thread)\n", best_depth, best);
  return failures == 0 ? 0 : 1;
}
