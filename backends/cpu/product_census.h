#pragma once
// A count of the matrix products the cpu backend runs, by shape and kernel,
// with the time each took: what bench/seq2seq.sh prints to show which
// kernel ran each product of a training or decoding step and at what rate.
// Off unless switched on (then each product costs two clock reads and a
// locked map update, about a microsecond).
#include <cstdint>
#include <string>
#include <vector>

#include "core/dispatch/backend.h"

namespace tg::cpu {

struct ProductShape {
  std::string kernel;     // "own", "openblas", "own-bf16 (dpbf16)", ...
  std::string dtype;      // of c
  int64_t batch, m, n, k;  // c[i] (m, n) = a[i] (m, k) @ b[i] (k, n)
  char a_layout, b_layout;  // 'N' rows contiguous, 'T' columns contiguous (a transpose), 'S' neither
  int64_t calls = 0;
  double seconds = 0;
  double flops() const { return 2.0 * double(batch * m * n * k) * double(calls); }  // of all its calls
  double gflops() const { return seconds > 0 ? 1e-9 * flops() / seconds : 0; }
};

void set_product_census(bool on);
bool product_census_on();
// Adds one product that took `seconds` on `kernel`.
void record_product(const char* kernel, const View& a, const View& b, const View& c, double seconds);
// Every shape seen since the last reset, the most time first.
std::vector<ProductShape> product_census();
void reset_product_census();

}  // namespace tg::cpu
