#include "backends/cpu/cpu_gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "backends/cpu/thread_pool.h"
#include "core/error.h"

namespace tg::cpu {

namespace {
// TG_SGEMM: "own", "openblas" or "" (unset: chosen by the processor).
std::string_view sgemm_choice() {
  const char* choice = std::getenv("TG_SGEMM");
  const std::string_view value = choice == nullptr ? "" : choice;
  if (!value.empty() && value != "own" && value != "openblas")
    fail("TG_SGEMM must be own or openblas (or unset), got '{}'", value);
  return value;
}
}  // namespace

bool row_independent_products() { return use_own_sgemm(); }

#if defined(__AVX512F__)

namespace {

// Register tile: kRows rows of C by two 16-float vectors of columns, 24
// accumulators of the 32 registers, so each k step loads two vectors of B and
// kRows values of A for 2 · kRows FMAs.
constexpr int kWidth = 16;
constexpr int kRows = 12;
constexpr int kCols = 2 * kWidth;    // a panel: columns of B the tile covers
constexpr int64_t kDepth = 256;      // k per block: one panel's block (kDepth · kCols floats) stays in L1
constexpr int64_t kPanelsAtOnce = 8;  // panels packed per block: 8 · 32 KiB (AVX-512) in L2

using Vec = float __attribute__((vector_size(kWidth * sizeof(float))));

Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

// c[0:R, 0:cols] (+)= a[0:R, 0:depth] @ panel, panel row kk = kCols values of B's row kk.
template <int R>
void tile(const float* a, int64_t a_rs, int64_t a_cs, const float* panel, int64_t depth, float* c, int64_t ldc,
          int cols, bool add) {
  Vec lo[R], hi[R];
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = Vec{};
  for (int64_t kk = 0; kk < depth; ++kk) {
    const Vec b0 = load(panel + kk * kCols), b1 = load(panel + kk * kCols + kWidth);
    for (int r = 0; r < R; ++r) {
      const float av = a[r * a_rs + kk * a_cs];
      lo[r] += av * b0;
      hi[r] += av * b1;
    }
  }
  if (cols == kCols) {
    for (int r = 0; r < R; ++r) {
      float* row = c + r * ldc;
      if (add) {
        lo[r] += load(row);
        hi[r] += load(row + kWidth);
      }
      store(row, lo[r]);
      store(row + kWidth, hi[r]);
    }
    return;
  }
  for (int r = 0; r < R; ++r) {  // the last panel, narrower than the tile
    float values[kCols];
    store(values, lo[r]);
    store(values + kWidth, hi[r]);
    float* row = c + r * ldc;
    for (int j = 0; j < cols; ++j) row[j] = add ? row[j] + values[j] : values[j];
  }
}

template <int... R>
void tile_rows(int rows, std::integer_sequence<int, R...>, const float* a, int64_t a_rs, int64_t a_cs,
               const float* panel, int64_t depth, float* c, int64_t ldc, int cols, bool add) {
  ((rows == R + 1 ? tile<R + 1>(a, a_rs, a_cs, panel, depth, c, ldc, cols, add) : void()), ...);
}

// Copies B[k0:k0+depth, panel p's columns] for `panels` panels from `first`, zero past column n.
void pack(const MatrixF32& b, int64_t n, int64_t k0, int64_t depth, int64_t first, int64_t panels, float* out) {
  for (int64_t q = 0; q < panels; ++q) {
    const int64_t col0 = (first + q) * kCols, cols = std::min<int64_t>(kCols, n - col0);
    float* dst = out + q * depth * kCols;
    for (int64_t kk = 0; kk < depth; ++kk) {
      const float* src = b.data + (k0 + kk) * b.row_stride + col0 * b.col_stride;
      float* d = dst + kk * kCols;
      if (b.col_stride == 1) {
        std::memcpy(d, src, static_cast<size_t>(cols) * sizeof(float));
      } else {
        for (int64_t j = 0; j < cols; ++j) d[j] = src[j * b.col_stride];
      }
      std::fill(d + cols, d + kCols, 0.0f);
    }
  }
}

// A thread's scratch (0: packed panels, 1: a transposed product's block), 64-byte aligned, grown as needed.
float* scratch(int which, int64_t floats) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& buffer = buffers[which];
  if (buffer.size() < static_cast<size_t>(floats) + 16) buffer.resize(static_cast<size_t>(floats) + 16);
  auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<float*>((address + 63) / 64 * 64);
}

// C rows [r0, r1) × panels [p0, p1).
void gemm_part(int64_t n, int64_t k, const MatrixF32& a, const MatrixF32& b, float* c, int64_t ldc, bool accumulate,
               int64_t r0, int64_t r1, int64_t p0, int64_t p1) {
  float* packed = scratch(0, kPanelsAtOnce * kDepth * kCols);
  for (int64_t first = p0; first < p1; first += kPanelsAtOnce) {
    const int64_t panels = std::min(kPanelsAtOnce, p1 - first);
    for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
      const int64_t depth = std::min(kDepth, k - k0);
      pack(b, n, k0, depth, first, panels, packed);
      const bool add = accumulate || k0 > 0;
      for (int64_t i = r0; i < r1; i += kRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kRows, r1 - i));
        const float* a_block = a.data + i * a.row_stride + k0 * a.col_stride;
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t col0 = (first + q) * kCols;
          const int cols = static_cast<int>(std::min<int64_t>(kCols, n - col0));
          tile_rows(rows, std::make_integer_sequence<int, kRows>{}, a_block, a.row_stride, a.col_stride,
                    packed + q * depth * kCols, depth, c + i * ldc + col0, ldc, cols, add);
        }
      }
    }
  }
}

struct Product {
  int64_t m, n, k;
  MatrixF32 a, b;
};

// Rows [r0, r1) × panels [p0, p1) of T = Bᵀ Aᵀ (product `t`), computed into a
// scratch block, then added into C = Tᵀ: C[panel columns of T, r0:r1].
void transposed_part(const Product& t, float* c, int64_t ldc, bool accumulate, int64_t r0, int64_t r1, int64_t p0,
                     int64_t p1) {
  constexpr int64_t kRowsAtOnce = 96 * kRows;  // bounds the scratch block: 1152 rows of T
  const int64_t c0 = p0 * kCols, c1 = std::min(p1 * kCols, t.n), cols = c1 - c0;
  for (int64_t first = r0; first < r1; first += kRowsAtOnce) {
    const int64_t rows = std::min(kRowsAtOnce, r1 - first);
    float* block = scratch(1, rows * cols);  // T[first:first+rows, c0:c1], row-major
    const MatrixF32 a{t.a.data + first * t.a.row_stride, t.a.row_stride, t.a.col_stride};
    const MatrixF32 b{t.b.data + c0 * t.b.col_stride, t.b.row_stride, t.b.col_stride};
    gemm_part(cols, t.k, a, b, block, cols, false, 0, rows, 0, p1 - p0);
    for (int64_t i = 0; i < cols; ++i) {  // C row c0 + i = T column c0 + i
      float* out = c + (c0 + i) * ldc + first;
      for (int64_t j = 0; j < rows; ++j) out[j] = accumulate ? out[j] + block[j * cols + i] : block[j * cols + i];
    }
  }
}

// Runs part(r0, r1, p0, p1) over the product's rows and 32-column panels,
// split over the pool's threads when it is large enough.
template <typename Part>
void split(const Product& p, const Part& part) {
  const int64_t panels = (p.n + kCols - 1) / kCols, row_blocks = (p.m + kRows - 1) / kRows;
  const int threads = pool_threads();
  if (threads == 1 || p.m * p.n * p.k / kFlopsPerElement < kParallelThreshold) {
    part(0, p.m, 0, panels);
  } else if (panels >= 2 * threads || panels >= row_blocks) {
    // Split the columns: each thread packs only its own panels of B and reads all of A.
    parallel_for(panels, threads, [&](int64_t begin, int64_t end) { part(0, p.m, begin, end); });
  } else {
    // Few columns, many rows: split the rows; each thread packs all of B.
    parallel_for(row_blocks, threads, [&](int64_t begin, int64_t end) {
      part(begin * kRows, std::min(end * kRows, p.m), 0, panels);
    });
  }
}

}  // namespace

bool use_own_sgemm() {
  static const bool own = [] {
    const std::string_view choice = sgemm_choice();
    if (choice == "own") return true;
    if (choice == "openblas") return false;
    const std::string_view core = openblas_get_corename();
    return core != "SkylakeX" && core != "Cooperlake" && core != "SapphireRapids";
  }();
  return own;
}

void own_sgemm(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    return;
  }
  if (m * (k + 2 * n) < k * n) {
    // Few rows against a large B (a decoder step against the output layer, h W_hhᵀ): B is read in place as
    // the A of T = Bᵀ Aᵀ and only A's rows are packed (k·m copies instead of k·n), then T is added into
    // C = Tᵀ, a strided pass over m·n that costs about two copies an element.
    const Product t{n, m, k, {b.data, b.col_stride, b.row_stride}, {a.data, a.col_stride, a.row_stride}};
    split(t, [&](int64_t r0, int64_t r1, int64_t p0, int64_t p1) { transposed_part(t, c, ldc, accumulate, r0, r1, p0, p1); });
    return;
  }
  const Product p{m, n, k, a, b};
  split(p, [&](int64_t r0, int64_t r1, int64_t p0, int64_t p1) {
    gemm_part(n, k, a, b, c, ldc, accumulate, r0, r1, p0, p1);
  });
}

#else  // no AVX-512 target: OpenBLAS does every product

bool use_own_sgemm() {
  if (sgemm_choice() == "own")
    fail("TG_SGEMM=own: this build has no AVX-512 target (the own kernel is built with -march=native on an "
         "AVX-512 processor); unset TG_SGEMM or set it to openblas");
  return false;
}
void own_sgemm(int64_t, int64_t, int64_t, MatrixF32, MatrixF32, float*, int64_t, bool) {
  fail("own_sgemm: this build has no AVX-512 target; float32 products run on OpenBLAS here");
}

#endif

}  // namespace tg::cpu
