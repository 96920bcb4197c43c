#pragma once
// The matrix product C (n, n) = A (n, n) @ B (n, n), float32, row-major, in
// the steps chapter 9 (docs/tutorial/09-why-it-is-fast.md) measures: each
// a little closer to what the cpu backend's own kernel does
// (backends/cpu/cpu_gemm.cpp). Shared by the chapter's program and its
// exercise's solution. n must be a multiple of kTileRows and kTileCols.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace speed {

// [tutorial:naive]
// 1. The definition: c_ij = Σ_k a_ik b_kj. The inner loop walks down a column
// of B, n floats apart: every step a new cache line, used for one float.
inline void naive(const float* a, const float* b, float* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0;
      for (int64_t k = 0; k < n; ++k) sum += a[i * n + k] * b[k * n + j];
      c[i * n + j] = sum;
    }
}
// [/tutorial:naive]

// [tutorial:reordered]
// 2. The same sums in another order: for each a_ik, add a_ik · (row k of B)
// to row i of C. The inner loop now reads B and writes C contiguously, so
// every cache line is used whole and the compiler vectorises it.
inline void reordered(const float* a, const float* b, float* c, int64_t n) {
  std::fill_n(c, n * n, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k) {
      const float a_ik = a[i * n + k];
      for (int64_t j = 0; j < n; ++j) c[i * n + j] += a_ik * b[k * n + j];
    }
}
// [/tutorial:reordered]

// [tutorial:blocked]
// 3. Blocked for the caches: rows k0..k0+block of B (block · n floats) are
// used by every row of A before the next block is read, so they stay in the
// cache instead of being fetched n times from memory.
inline void blocked(const float* a, const float* b, float* c, int64_t n, int64_t block) {
  std::fill_n(c, n * n, 0.0f);
  for (int64_t k0 = 0; k0 < n; k0 += block) {
    const int64_t k1 = std::min(k0 + block, n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = k0; k < k1; ++k) {
        const float a_ik = a[i * n + k];
        for (int64_t j = 0; j < n; ++j) c[i * n + j] += a_ik * b[k * n + j];
      }
  }
}
// [/tutorial:blocked]

// [tutorial:micro_kernel]
// 4. A register tile: 6 rows × 16 columns of C live in 12 vector registers
// (8 floats each) for a whole block of k, so C is loaded and stored once per
// block instead of once per k. Each k step loads two vectors of B and 6
// values of A for 12 multiply-adds: compute, not loads, sets the pace.
constexpr int64_t kTileRows = 6, kTileCols = 16, kDepth = 256;
using Vec = float __attribute__((vector_size(8 * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// B's columns [j0, j0 + 16) of rows [k0, k1) packed as (k1 − k0) rows of 16
// contiguous floats: the tile reads its B in the order it uses it.
inline void pack_panel(const float* b, int64_t n, int64_t k0, int64_t k1, int64_t j0, float* panel) {
  for (int64_t k = k0; k < k1; ++k) std::memcpy(panel + (k - k0) * kTileCols, b + k * n + j0, kTileCols * sizeof(float));
}

// C[i0:i0+6, j0:j0+16] += A[i0:i0+6, k0:k1] @ panel.
inline void tile(const float* a, const float* panel, float* c, int64_t n, int64_t i0, int64_t j0, int64_t k0,
                 int64_t k1) {
  Vec acc[kTileRows][2] = {};
  for (int64_t k = k0; k < k1; ++k) {
    const Vec b_lo = load(panel + (k - k0) * kTileCols), b_hi = load(panel + (k - k0) * kTileCols + 8);
    for (int64_t r = 0; r < kTileRows; ++r) {
      const float a_rk = a[(i0 + r) * n + k];  // broadcast to all 8 lanes by the arithmetic below
      acc[r][0] += a_rk * b_lo;
      acc[r][1] += a_rk * b_hi;
    }
  }
  for (int64_t r = 0; r < kTileRows; ++r)
    for (int64_t j = 0; j < 8; ++j) {
      c[(i0 + r) * n + j0 + j] += acc[r][0][j];
      c[(i0 + r) * n + j0 + 8 + j] += acc[r][1][j];
    }
}

// Columns [j_begin, j_end) of C (multiples of 16): for each block of `depth`
// rows of k, pack a panel (depth · 16 floats, meant to stay in L1) and run
// every row tile over it.
inline void packed_columns(const float* a, const float* b, float* c, int64_t n, int64_t j_begin, int64_t j_end,
                           int64_t depth = kDepth) {
  std::vector<float> panel(static_cast<size_t>(depth * kTileCols));
  for (int64_t k0 = 0; k0 < n; k0 += depth) {
    const int64_t k1 = std::min(k0 + depth, n);
    for (int64_t j0 = j_begin; j0 < j_end; j0 += kTileCols) {
      pack_panel(b, n, k0, k1, j0, panel.data());
      for (int64_t i0 = 0; i0 < n; i0 += kTileRows) tile(a, panel.data(), c, n, i0, j0, k0, k1);
    }
  }
}

// The tiles cover C exactly: n a multiple of 6 and of 16.
inline void check_tiles(int64_t n) {
  if (n % kTileRows != 0 || n % kTileCols != 0)
    throw std::invalid_argument("speed::packed: n must be a multiple of 6 and of 16 (48, 96, ...), got " +
                                std::to_string(n));
}

inline void packed(const float* a, const float* b, float* c, int64_t n, int64_t depth = kDepth) {
  check_tiles(n);
  std::fill_n(c, n * n, 0.0f);
  packed_columns(a, b, c, n, 0, n, depth);
}
// [/tutorial:micro_kernel]

// [tutorial:threads]
// 5. Threads: each takes its own columns of C (whole panels), so no two
// write the same element and none waits for another.
inline void threaded(const float* a, const float* b, float* c, int64_t n, int threads) {
  check_tiles(n);
  std::fill_n(c, n * n, 0.0f);
  const int64_t panels = n / kTileCols;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    const int64_t begin = panels * t / threads * kTileCols, end = panels * (t + 1) / threads * kTileCols;
    workers.emplace_back([=] { packed_columns(a, b, c, n, begin, end); });
  }
  for (std::thread& w : workers) w.join();
}
// [/tutorial:threads]

}  // namespace speed
