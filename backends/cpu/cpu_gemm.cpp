#include "backends/cpu/cpu_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <vector>

#include "backends/cpu/amx_tiles.h"
#include "backends/cpu/cpu_loops.h"
#include "backends/cpu/packed_operand_cache.h"
#include "backends/cpu/thread_pool.h"
#include "core/services/error.h"
#include "core/types/half.h"

namespace tg::cpu {

// The own kernels need AVX-512 (F, BW, DQ and VL; BF16 for vdpbf16ps). A
// build for such a processor (-march=native on one) compiles them for it. A
// generic build (-Dportable=true, what a distribution ships) compiles them
// too, in a region of their own with those instructions enabled, and runs
// them only where the processor has them (own_kernels_run_here, checked once);
// functions outside the region never use them. (GCC's target pragma; with
// clang a generic build leaves them out.)
#if defined(__AVX512F__)
#define TG_OWN_KERNELS 1
#define TG_OWN_KERNELS_CHECKED_AT_RUN_TIME 0
#if defined(__AVX512BF16__)
#define TG_BF16_KERNELS 1
#else
#define TG_BF16_KERNELS 0
#endif
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TG_OWN_KERNELS 1
#define TG_OWN_KERNELS_CHECKED_AT_RUN_TIME 1
#define TG_BF16_KERNELS 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,fma")
#else
#define TG_OWN_KERNELS 0
#define TG_OWN_KERNELS_CHECKED_AT_RUN_TIME 0
#define TG_BF16_KERNELS 0
#endif

// AMX tiles for bfloat16 products: built beside the AVX512-BF16 kernels where the compiler has the intrinsics
// (amx_tiles.h), run where the processor has AMX-BF16 and Linux lets the process use the tiles.
#if TG_BF16_KERNELS && TG_AMX_INTRINSICS
#define TG_AMX_KERNELS 1
#else
#define TG_AMX_KERNELS 0
#endif

#if TG_OWN_KERNELS

namespace {

// Register tile: kRows rows of C by two 16-float vectors of columns, 24
// accumulators of the 32 registers, so each k step loads two vectors of B and
// kRows values of A for 2 · kRows multiply-adds.
constexpr int kWidth = 16;
constexpr int kRows = 12;
constexpr int kCols = kPanelColumns;  // a panel: columns of B the tile covers (cpu_gemm.h)
static_assert(kCols == 2 * kWidth);
constexpr int64_t kDepth = 256;      // k per block of float32 panels and of the AMX tiles (kDepth · kCols floats: L1)
constexpr int64_t kPanelsAtOnce = 8;  // panels packed per block: 8 · 32 KiB (AVX-512) in L2
constexpr int64_t kKeepPackedRows = 512;  // float32 products of a parameter B with at most this many rows keep B packed
// Multiply-adds from which a bfloat16 product converts A once (tiles_gemm, converted_gemm) where it would be
// converted again for every group of panels and on every thread: a training step's output layer and weight
// gradients (10⁸-10¹⁰) do, a recurrent step's products (5-10 · 10⁷) do not (there a second hand-off to the
// threads costs more than the conversion saves: 20-30% slower in gemm_ab with the AMX tiles).
constexpr int64_t kConvertOnceMultiplyAdds = int64_t{1} << 28;

using Vec = float __attribute__((vector_size(kWidth * sizeof(float))));

Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

// Whether B's columns, not its rows, are runs of memory (B = Wᵀ, a linear layer's weight read transposed).
inline bool columns_are_runs(const MatrixF32& b) { return b.row_stride == 1 && b.col_stride != 1; }

// A thread's scratch buffer `which` of `count` T, 64-byte aligned, grown as needed.
template <typename T>
T* scratch(int which, int64_t count) {
  thread_local std::vector<T> buffers[3];
  std::vector<T>& buffer = buffers[which];
  const size_t slack = 64 / sizeof(T);
  if (buffer.size() < static_cast<size_t>(count) + slack) buffer.resize(static_cast<size_t>(count) + slack);
  auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<T*>((address + 63) / 64 * 64);
}

// Asks for one packed panel row (kCols 4-byte values: two cache lines) in L1.
inline void prefetch_panel_row(const void* row) {
  _mm_prefetch(static_cast<const char*>(row), _MM_HINT_T0);
  _mm_prefetch(static_cast<const char*>(row) + 64, _MM_HINT_T0);
}

// All of B packed, block after block of Format::kBlockDepth k: block k0 / kBlockDepth starts at
// (k0 / kBlockDepth) · panels · packed_depth · kCols, panel q of a block at q · (its packed rows) · kCols,
// as pack_b lays out the panels it is given.
template <typename Format>
int64_t packed_block_offset(int64_t n, int64_t k0) {
  constexpr int64_t depth = Format::kBlockDepth, packed_depth = (depth + Format::kStep - 1) / Format::kStep;
  const int64_t panels = (n + kCols - 1) / kCols;
  return k0 / depth * panels * packed_depth * kCols;
}

// C (M, N) = A (M, K) @ B (K, N).
struct Product {
  int64_t m, n, k;
  MatrixF32 a, b;
};

// Writes a tile's accumulators to c[0:R, 0:cols] (adding what c holds when `add`).
template <int R>
void store_tile(const Vec (&lo)[R], const Vec (&hi)[R], float* c, int64_t ldc, int cols, bool add) {
  for (int r = 0; r < R; ++r) {
    float* row = c + r * ldc;
    if (cols == kCols) {
      store(row, add ? lo[r] + load(row) : lo[r]);
      store(row + kWidth, add ? hi[r] + load(row + kWidth) : hi[r]);
      continue;
    }
    float values[kCols];  // the last panel, narrower than the tile
    store(values, lo[r]);
    store(values + kWidth, hi[r]);
    for (int j = 0; j < cols; ++j) row[j] = add ? row[j] + values[j] : values[j];
  }
}

// A transposed A's copy walks rows of memory far apart, which the hardware's prefetchers do not follow: asks
// for the line 2 · kCols floats past `run`, about five row tiles ahead (with the copy's masked vectors: float32
// (5921, 1216) x (1216, 1792), A = Xᵀ, 332 → 427 GFLOP/s on Zen 5, docs/performance.md).
inline void prefetch_rows_ahead(const float* run) {
  _mm_prefetch(reinterpret_cast<const char*>(run + 2 * kCols), _MM_HINT_T0);
}

// The first `count` (0-16) of 16 lanes.
inline __mmask16 first_lanes(int64_t count) {
  return static_cast<__mmask16>(count >= 16 ? 0xffff : count <= 0 ? 0 : (1u << count) - 1);
}

// 16 vectors of 16 32-bit words, transposed in place: r[i][j] becomes r[j][i] (four rounds of shuffles, 64 in
// all). Packing turns runs of k (pairs, as a row of memory converts) into the panels' rows of columns with it.
// (The maskz forms, all lanes kept: GCC 12's plain ones start from an undefined vector and warn.)
inline void transpose_words(__m512i (&r)[16]) {
  constexpr __mmask16 words = 0xffff;
  constexpr __mmask8 pairs = 0xff;
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_maskz_unpacklo_epi32(words, r[i], r[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_epi32(words, r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_maskz_unpacklo_epi64(pairs, t[i], t[i + 2]);
    r[i + 1] = _mm512_maskz_unpackhi_epi64(pairs, t[i], t[i + 2]);
    r[i + 2] = _mm512_maskz_unpacklo_epi64(pairs, t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_maskz_unpackhi_epi64(pairs, t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 16; i += 8)
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_maskz_shuffle_i32x4(words, r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_maskz_shuffle_i32x4(words, r[i + j], r[i + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_maskz_shuffle_i32x4(words, t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_maskz_shuffle_i32x4(words, t[j], t[j + 8], 0xdd);
  }
}

// float32 products: B packed as is. A is read in place when its rows are
// runs of memory; otherwise (a transposed A, a weight gradient's Xᵀ) the
// tile's rows are copied k-major first (A[r, kk] at kk · rows + r, runs of
// `rows` floats), as reading kRows values a whole row of memory apart for
// every k ran at half the kernel's rate.
struct F32Format {
  using Packed = float;  // a packed panel row: kCols values of one row of B
  static constexpr int64_t kStep = 1;  // k values per packed row
  static constexpr int64_t kBlockDepth = kDepth;  // k per block: C's sums add one block's products at a time
  static constexpr bool kConverts = false;  // packing B only copies it: kept only for few rows (keep_packed)
  static constexpr int kId = 0;
  struct Operand {  // A's rows for a tile: row r, column kk at data[r · row_stride + kk · col_stride]
    const float* data;
    int64_t row_stride, col_stride;
  };

  // Copies B[k0:k0+depth, panel p's columns] for `panels` panels from `first`, zero past column n.
  static void pack_b(const MatrixF32& b, int64_t n, int64_t k0, int64_t depth, int64_t first, int64_t panels,
                     Packed* out) {
    if (columns_are_runs(b)) return pack_b_columns(b, n, k0, depth, first, panels, out);
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
  // The same for B = Wᵀ (a linear layer's forward), whose columns are runs of memory: 16 k of 16 columns load
  // as runs and are transposed into halves of 16 panel rows (transpose_words), where a value a column of memory
  // apart was gathered one at a time. The 16 runs read side by side each have their line two steps on asked
  // for, as the hardware's prefetchers do not follow so many.
  static void pack_b_columns(const MatrixF32& b, int64_t n, int64_t k0, int64_t depth, int64_t first,
                             int64_t panels, Packed* out) {
    for (int64_t q = 0; q < panels; ++q) {
      const int64_t col0 = (first + q) * kCols, cols = std::min<int64_t>(kCols, n - col0);
      float* dst = out + q * depth * kCols;
      for (int64_t kk = 0; kk < depth; kk += kWidth) {
        const int64_t rows = std::min<int64_t>(kWidth, depth - kk);
        const __mmask16 lanes = first_lanes(rows);
        for (int64_t half = 0; half < kCols; half += kWidth) {
          __m512i words[kWidth];  // words[j]: column half + j's k values kk .. kk + 15
          for (int64_t j = 0; j < kWidth; ++j) {
            if (half + j >= cols) {
              words[j] = _mm512_setzero_si512();
              continue;
            }
            const float* run = b.data + (k0 + kk) + (col0 + half + j) * b.col_stride;
            _mm_prefetch(reinterpret_cast<const char*>(run + 2 * kWidth), _MM_HINT_T0);
            words[j] = _mm512_castps_si512(_mm512_maskz_loadu_ps(lanes, run));
          }
          transpose_words(words);  // words[i]: row kk + i of the 16 columns
          for (int64_t i = 0; i < rows; ++i) _mm512_storeu_si512(dst + (kk + i) * kCols + half, words[i]);
        }
      }
    }
  }
  static Operand pack_a(const float* a, int64_t row_stride, int64_t col_stride, int rows, int64_t depth) {
    if (col_stride == 1) return {a, row_stride, 1};
    float* out = scratch<float>(2, rows * depth);  // 0: B's panels, 1: transposed_part's block
    static_assert(kRows <= kWidth);
    const __mmask16 row_lanes = first_lanes(rows);
    for (int64_t kk = 0; kk < depth; ++kk) {
      const float* column = a + kk * col_stride;
      float* d = out + kk * rows;
      if (row_stride == 1) {  // one masked vector a k (a memcpy call a k ran 12% slower)
        _mm512_mask_storeu_ps(d, row_lanes, _mm512_maskz_loadu_ps(row_lanes, column));
        prefetch_rows_ahead(column);
      } else
        for (int r = 0; r < rows; ++r) d[r] = column[r * row_stride];
    }
    return {out, 1, rows};
  }
  // c[0:R, 0:cols] (+)= a[0:R, 0:depth] @ panel, panel row kk = kCols values of B's row kk. `ahead`, when
  // set: the panel the next tiles read, asked for a row per k (prefetch_panel_row).
  template <int R>
  static void tile(const Operand& a, const Packed* panel, int64_t depth, float* c, int64_t ldc, int cols, bool add,
                   const Packed* ahead) {
    Vec lo[R], hi[R];
    for (int r = 0; r < R; ++r) lo[r] = hi[r] = Vec{};
    auto step = [&](int64_t kk, auto value_of_row) {
      const Vec b0 = load(panel + kk * kCols), b1 = load(panel + kk * kCols + kWidth);
      for (int r = 0; r < R; ++r) {
        const float av = value_of_row(r);
        lo[r] += av * b0;
        hi[r] += av * b1;
      }
    };
    if (a.col_stride == 1) {  // in place: rows row_stride apart
      auto in_place = [&](int64_t kk) { return [&a, kk](int r) { return a.data[r * a.row_stride + kk]; }; };
      if (ahead)
        for (int64_t kk = 0; kk < depth; ++kk) prefetch_panel_row(ahead + kk * kCols), step(kk, in_place(kk));
      else
        for (int64_t kk = 0; kk < depth; ++kk) step(kk, in_place(kk));
    } else {  // packed k-major (pack_a): R values a k
      const float* column = a.data;
      for (int64_t kk = 0; kk < depth; ++kk, column += R) step(kk, [&](int r) { return column[r]; });
    }
    store_tile(lo, hi, c, ldc, cols, add);
  }
};

#if TG_BF16_KERNELS
// x rounded to bfloat16 (nearest, ties to even; NaN kept quiet), as a float
// again: bfloat16::from_float in integer steps the compiler vectorises.
inline float rounded_to_bf16(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const uint32_t nearest = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u, quiet_nan = (u | 0x00400000u) & 0xffff0000u;
  return std::bit_cast<float>((u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : nearest);
}

// bfloat16 products on float32 multiply-adds: both operands rounded to
// bfloat16 while they are packed (A too, into the thread's scratch), then
// F32Format's tile. A product of two bfloat16 values is exact in float32, so
// this computes what vdpbf16ps computes, summed one k at a time (and
// subnormals kept), at the float32 kernel's rate: the faster of the two
// where vdpbf16ps issues at half the rate of vfmadd231ps (bench_instruction_rate).
struct Bf16OnFmaFormat : F32Format {
  static constexpr bool kConverts = true;
  static constexpr int kId = 1;
  static void pack_b(const MatrixF32& b, int64_t n, int64_t k0, int64_t depth, int64_t first, int64_t panels,
                     Packed* out) {
    F32Format::pack_b(b, n, k0, depth, first, panels, out);
    const int64_t words = panels * depth * kCols;
    for (int64_t i = 0; i < words; ++i) out[i] = rounded_to_bf16(out[i]);
  }
  static Operand pack_a(const float* a, int64_t row_stride, int64_t col_stride, int rows, int64_t depth) {
    float* out = scratch<float>(2, rows * depth);  // 0: B's panels, 1: transposed_part's block
    for (int r = 0; r < rows; ++r) {
      const float* row = a + r * row_stride;
      float* d = out + r * depth;
      if (col_stride == 1)
        for (int64_t j = 0; j < depth; ++j) d[j] = rounded_to_bf16(row[j]);
      else
        for (int64_t j = 0; j < depth; ++j) d[j] = rounded_to_bf16(row[j * col_stride]);
    }
    return {out, depth, 1};
  }
};

// bfloat16 products with float32 sums (vdpbf16ps): both operands rounded to
// bfloat16 (nearest, ties to even) while they are packed, as pairs of
// consecutive k in one 32-bit word (the even k in the low half), so that one
// instruction adds a[k]·b[k] + a[k+1]·b[k+1] into each of 16 float32 sums:
// twice the multiply-adds of a float32 FMA per instruction. The instruction
// treats subnormal inputs and results as zero.
struct Bf16Format {
  using Packed = uint32_t;  // a packed panel row: kCols pairs (B[k, j], B[k+1, j])
  static constexpr int64_t kStep = 2;
  // 256 pairs a block: a panel's block is as many bytes as float32's (32 KiB), and C's tiles and A's
  // conversion come once per 512 k instead of 256 (the 2-thread products of a training step ran 4-19%
  // faster on Zen 5 with it: docs/performance.md).
  static constexpr int64_t kBlockDepth = 2 * kDepth;
  static constexpr bool kConverts = true;
  static constexpr int kId = 2;
  struct Operand {  // A's tile as pairs: row r, pair p at data[r · row_stride + p · pair_stride]
    const uint32_t* data;
    int64_t row_stride, pair_stride;
  };

  static void store_words(uint32_t* d, __m512i v, bool stream) {
    if (stream && (reinterpret_cast<uintptr_t>(d) & 63) == 0)
      _mm512_stream_si512(reinterpret_cast<__m512i*>(d), v);
    else
      _mm512_storeu_si512(d, v);
  }
  static uint32_t pair(float even, float odd) {
    return uint32_t{bfloat16::from_float(even)} | uint32_t{bfloat16::from_float(odd)} << 16;
  }
  // 16 pairs (even[j], odd[j]) from two rows of 16 floats each.
  static __m512i pairs_of(__m512 even, __m512 odd) {
    // cvtne2ps_pbh puts odd's 16 values in the high half, even's in the low; the permutation interleaves them.
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                       23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(interleave, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(odd, even)));
  }
  // `stream`: the panels written past the caches (a packing made as its parameter is written, read at the
  // next step).
  static void pack_b(const MatrixF32& b, int64_t n, int64_t k0, int64_t depth, int64_t first, int64_t panels,
                     Packed* out, bool stream = false) {
    if (columns_are_runs(b)) {
      pack_b_columns(b, n, k0, depth, first, panels, out, stream);
      return;
    }
    pack_pair_rows(b, n, k0, depth, first, panels, out, (depth + 1) / 2 * kCols, stream);
  }
  // Pair rows of B[k0:k0+depth, ...] (k0 even) into `panels` panels from `first`, panel `first + q` at
  // out + q · panel_stride (a block's whole panels: pack_b; a part of the block's pair rows: a kept packing
  // made again as its parameter is written, kept_packing_refresh.h).
  // kPanelsInRun panels at a time, pair row after pair row: each row of B is read in runs of 512 bytes, and
  // the rows kPairsAhead pairs on are asked for. (A panel at a time read a column of 128-byte pieces,
  // stalling on each: an output layer's W (5921, 1792) took 3.4 ms to pack on one Zen 5 core, 2.4 now;
  // bench_matmul --b-written, docs/performance.md.)
  static void pack_pair_rows(const MatrixF32& b, int64_t n, int64_t k0, int64_t depth, int64_t first,
                             int64_t panels, Packed* out, int64_t panel_stride, bool stream = false) {
    const int64_t pairs = (depth + 1) / 2;
    constexpr int64_t kPanelsInRun = 4, kPairsAhead = 4;
    for (int64_t g = 0; g < panels; g += kPanelsInRun) {
      const int64_t group_end = std::min(panels, g + kPanelsInRun);
      const int64_t run_bytes = std::min(n - (first + g) * kCols, (group_end - g) * kCols) * int64_t{sizeof(float)};
      for (int64_t p = 0; p < pairs; ++p) {
        const bool has_odd = 2 * p + 1 < depth;  // an odd depth's last pair multiplies a zero
        if (b.col_stride == 1 && 2 * (p + kPairsAhead) + 1 < depth) {
          const char* ahead = reinterpret_cast<const char*>(b.data + (k0 + 2 * (p + kPairsAhead)) * b.row_stride +
                                                            (first + g) * kCols);
          for (int64_t line = 0; line < run_bytes; line += 64) {
            _mm_prefetch(ahead + line, _MM_HINT_T0);
            _mm_prefetch(ahead + b.row_stride * int64_t{sizeof(float)} + line, _MM_HINT_T0);
          }
        }
        for (int64_t q = g; q < group_end; ++q) {
          const int64_t col0 = (first + q) * kCols, cols = std::min<int64_t>(kCols, n - col0);
          const float* even = b.data + (k0 + 2 * p) * b.row_stride + col0 * b.col_stride;
          uint32_t* d = out + q * panel_stride + p * kCols;
          int64_t j = 0;
          if (b.col_stride == 1 && has_odd)
            for (; j + kWidth <= cols; j += kWidth)
              store_words(d + j, pairs_of(_mm512_loadu_ps(even + j), _mm512_loadu_ps(even + b.row_stride + j)), stream);
          for (; j < cols; ++j)
            d[j] = pair(even[j * b.col_stride], has_odd ? even[b.row_stride + j * b.col_stride] : 0.0f);
          std::fill(d + cols, d + kCols, 0u);
        }
      }
    }
  }
  // pack_b for a B whose columns are runs of memory (B = Wᵀ, a linear layer's weight): each column's 16
  // pairs convert from 32 consecutive values, as a row of memory does, and 16 columns' are transposed into
  // 16 panel rows. (Gathering each value a column of memory apart cost a training step 6% in bfloat16.)
  // The 32 columns of a panel are 32 runs read side by side, more than the hardware's prefetchers follow:
  // each run's lines two steps on are asked for (with pack_panels' panel-at-a-time order, an output layer's
  // Wᵀ (1792, 5921) packs in 2.0 ms on one Zen 5 core, 3.4 before).
  static void prefetch_run_ahead(const float* run) {
    _mm_prefetch(reinterpret_cast<const char*>(run + 4 * kWidth), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(run + 5 * kWidth), _MM_HINT_T0);
  }
  static void pack_b_columns(const MatrixF32& b, int64_t n, int64_t k0, int64_t depth, int64_t first, int64_t panels,
                             Packed* out, bool stream = false) {
    const int64_t pairs = (depth + 1) / 2;
    for (int64_t q = 0; q < panels; ++q) {
      const int64_t col0 = (first + q) * kCols, cols = std::min<int64_t>(kCols, n - col0);
      uint32_t* dst = out + q * pairs * kCols;
      for (int64_t p0 = 0; p0 < pairs; p0 += kWidth) {
        const int64_t values = std::min<int64_t>(2 * kWidth, depth - 2 * p0);  // an odd depth's last pair: one
        const __mmask16 low = first_lanes(values), high = first_lanes(values - kWidth);
        for (int64_t half = 0; half < kCols; half += kWidth) {
          __m512i words[kWidth];  // words[j]: column half + j's pairs p0 .. p0 + 15
          for (int64_t j = 0; j < kWidth; ++j) {
            if (half + j >= cols) {
              words[j] = _mm512_setzero_si512();
              continue;
            }
            const float* run = b.data + k0 + 2 * p0 + (col0 + half + j) * b.col_stride;
            prefetch_run_ahead(run);
            words[j] = reinterpret_cast<__m512i>(
                _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, run + kWidth), _mm512_maskz_loadu_ps(low, run)));
          }
          transpose_words(words);  // words[p]: pair p0 + p of the 16 columns
          for (int64_t p = 0; p < std::min<int64_t>(kWidth, pairs - p0); ++p)
            store_words(dst + (p0 + p) * kCols + half, words[p], stream);
        }
      }
    }
  }
  // One row of A, depth values col_stride apart, as (depth + 1) / 2 pairs at d.
  static void pack_row(const float* row, int64_t col_stride, int64_t depth, uint32_t* d) {
    const int64_t pairs = (depth + 1) / 2;
    int64_t p = 0;
    if (col_stride == 1)  // consecutive k are already pairs: 32 values to 16 words at a time
      for (; 2 * p + 2 * kWidth <= depth; p += kWidth)
        _mm512_storeu_si512(d + p, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + 2 * p + kWidth),
                                                                                 _mm512_loadu_ps(row + 2 * p))));
    for (; p < pairs; ++p) d[p] = pair(row[2 * p * col_stride], 2 * p + 1 < depth ? row[(2 * p + 1) * col_stride] : 0.0f);
  }
  // A[0:rows, 0:depth] as pairs in the thread's scratch: row-major (`pairs` words a row) where A's rows are
  // runs of memory; pair-major (`rows` words a pair) where its columns are (a transposed A, a weight
  // gradient's Xᵀ: a pair of columns converts 16 rows at a time).
  static Operand pack_a(const float* a, int64_t row_stride, int64_t col_stride, int rows, int64_t depth) {
    return pack_a_into(a, row_stride, col_stride, rows, depth, scratch<uint32_t>(1, rows * ((depth + 1) / 2)));
  }
  static bool pair_major(int64_t row_stride, int64_t col_stride) { return col_stride != 1 && row_stride == 1; }
  // The operand pack_a_into made of such a tile at `words` earlier (ConvertedRows).
  static Operand converted(const uint32_t* words, int64_t row_stride, int64_t col_stride, int rows, int64_t depth) {
    if (pair_major(row_stride, col_stride)) return {words, 1, rows};
    return {words, (depth + 1) / 2, 1};
  }
  // pack_a's conversion into `out` (rows · pairs words).
  static Operand pack_a_into(const float* a, int64_t row_stride, int64_t col_stride, int rows, int64_t depth,
                             uint32_t* out) {
    const int64_t pairs = (depth + 1) / 2;
    if (pair_major(row_stride, col_stride)) {
      const __mmask16 first_rows = first_lanes(rows);
      for (int64_t p = 0; p < pairs; ++p) {
        const float* even = a + 2 * p * col_stride;
        prefetch_rows_ahead(even);
        prefetch_rows_ahead(even + col_stride);
        const __m512 odd = 2 * p + 1 < depth ? _mm512_maskz_loadu_ps(first_rows, even + col_stride) : _mm512_setzero_ps();
        _mm512_mask_storeu_epi32(out + p * rows, first_rows, pairs_of(_mm512_maskz_loadu_ps(first_rows, even), odd));
      }
      return {out, 1, rows};
    }
    for (int r = 0; r < rows; ++r) pack_row(a + r * row_stride, col_stride, depth, out + r * pairs);
    return {out, pairs, 1};
  }
  template <int R>
  static void tile(const Operand& a, const Packed* panel, int64_t depth, float* c, int64_t ldc, int cols, bool add,
                   const Packed* ahead) {
    __m512 lo[R], hi[R];
    for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
    const int64_t pairs = (depth + 1) / 2;
    auto step = [&](int64_t p, auto pair_of_row) {
      const auto b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(panel + p * kCols));
      const auto b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(panel + p * kCols + kWidth));
      for (int r = 0; r < R; ++r) {
        const auto av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(pair_of_row(r))));
        lo[r] = _mm512_dpbf16_ps(lo[r], av, b0);
        hi[r] = _mm512_dpbf16_ps(hi[r], av, b1);
      }
    };
    if (a.pair_stride == 1) {  // row-major
      auto in_place = [&](int64_t p) { return [&a, p](int r) { return a.data[r * a.row_stride + p]; }; };
      if (ahead)
        for (int64_t p = 0; p < pairs; ++p) prefetch_panel_row(ahead + p * kCols), step(p, in_place(p));
      else
        for (int64_t p = 0; p < pairs; ++p) step(p, in_place(p));
    } else {  // pair-major: R words a pair
      const uint32_t* column = a.data;
      for (int64_t p = 0; p < pairs; ++p, column += R) step(p, [&](int r) { return column[r]; });
    }
    Vec lo_v[R], hi_v[R];
    for (int r = 0; r < R; ++r) {
      std::memcpy(&lo_v[r], &lo[r], sizeof(Vec));
      std::memcpy(&hi_v[r], &hi[r], sizeof(Vec));
    }
    store_tile(lo_v, hi_v, c, ldc, cols, add);
  }
};

#if TG_AMX_KERNELS
// bfloat16 products on Intel's AMX tiles (Sapphire and Emerald Rapids): tdpbf16ps adds A (16 rows × 16 pairs
// of k) times B (16 pairs of k × 16 columns) into 16 × 16 float32 sums, each pair a[k]·b[k] + a[k+1]·b[k+1]
// as vdpbf16ps forms it, 16 times the multiply-adds of a float32 FMA per cycle. B is Bf16Format's packing (one
// cache entry for both): a panel's pair row is 32 words, two tiles' rows side by side. A is packed here as
// rows of pairs, padded with zeros to whole tiles (16 pairs, 16 rows), so every tile is full size and one
// configuration serves every product. Subnormal inputs and sums read as zero, as for vdpbf16ps.
struct Bf16TilesFormat : Bf16Format {  // gemm_part<Bf16TilesFormat> is tiles_part
  static constexpr int64_t kBlockDepth = kDepth;  // TilesA and tiles_panels' block: 128 pairs
  static constexpr int kId = 3;  // packed in blocks of its own depth: a cache entry apart from Bf16Format's
};

#define TG_TILES_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,fma,amx-tile,amx-bf16")))

constexpr int kTileRows = 16;   // rows of every tile; a C tile is 16 × 16 float32
constexpr int kTilePairs = 16;  // pairs of k in an A tile's row (64 bytes), pair rows in a B tile


// A[0:rows, 0:depth] (rows ≤ 32) as rows of pairs `stride` words apart (stride: whole tiles of pairs), zero
// past depth and past rows up to whole row tiles.
TG_TILES_TARGET void pack_a_for_tiles(const float* a, int64_t row_stride, int64_t col_stride, int rows, int64_t depth,
                                      int64_t stride, uint32_t* out) {
  const int64_t pairs = (depth + 1) / 2;
  const int padded_rows = (rows + kTileRows - 1) / kTileRows * kTileRows;
  if (col_stride != 1 && row_stride == 1) {  // columns are runs (Xᵀ): a pair of columns converts 16 rows at once;
    // 16 pairs of them are transposed into the 16 rows' runs of pairs
    for (int r0 = 0; r0 < rows; r0 += kTileRows) {
      const int count = std::min(kTileRows, rows - r0);
      const __mmask16 first_rows = first_lanes(count);
      for (int64_t p0 = 0; p0 < pairs; p0 += kTilePairs) {
        __m512i words[kTilePairs];  // words[p]: pair p0 + p of the 16 rows
        for (int64_t p = 0; p < kTilePairs; ++p) {
          const int64_t pair = p0 + p;
          if (pair >= pairs) {
            words[p] = _mm512_setzero_si512();
            continue;
          }
          const float* even = a + r0 + 2 * pair * col_stride;
          const __m512 odd =
              2 * pair + 1 < depth ? _mm512_maskz_loadu_ps(first_rows, even + col_stride) : _mm512_setzero_ps();
          words[p] = Bf16Format::pairs_of(_mm512_maskz_loadu_ps(first_rows, even), odd);
        }
        transpose_words(words);  // words[r]: row r0 + r's pairs p0 .. p0 + 15
        for (int r = 0; r < count; ++r) _mm512_storeu_si512(out + (r0 + r) * stride + p0, words[r]);
      }
    }
  } else {
    for (int r = 0; r < rows; ++r) Bf16Format::pack_row(a + r * row_stride, col_stride, depth, out + r * stride);
  }
  for (int r = 0; r < rows; ++r) std::fill(out + r * stride + pairs, out + (r + 1) * stride, 0u);
  std::fill(out + rows * stride, out + padded_rows * stride, 0u);
}

// A for the tiles, converted once a product (a chunk of its rows at a time: the float32 rows were read from
// memory and converted again for every group of panels before, N / 512 times, 8% of a bfloat16 training
// step). Per block of kDepth k, the chunk's rows of pairs, padded to whole tiles, `stride` words apart.
struct TilesA {
  static constexpr int64_t kConvertedBytes = int64_t{8} << 20;  // a chunk's converted rows at most
  static constexpr int64_t kPairRows = 2 * kTileRows, kBlockWords = kDepth / 2;
  const MatrixF32& a;
  int64_t k;
  uint32_t* converted;  // the chunk: block k0 / kDepth at (k0 / kDepth) · padded · kBlockWords
  int64_t c0 = 0, c1 = 0, padded = 0;  // the chunk's rows [c0, c1), padded to whole row tile pairs

  static int64_t row_words(int64_t k) { return (k + kDepth - 1) / kDepth * kBlockWords; }  // every block whole
  // Rows a chunk holds (whole pairs of row tiles, at least one pair).
  static int64_t chunk_rows(int64_t k) {
    return std::max(kPairRows, kConvertedBytes / (row_words(k) * 4) / kPairRows * kPairRows);
  }
  static int64_t words(int64_t k, int64_t rows) {
    return std::min(chunk_rows(k), (rows + kPairRows - 1) / kPairRows * kPairRows) * row_words(k);
  }
  static int64_t stride(int64_t k, int64_t k0) {  // a block's words a row: its pairs in whole tiles
    return (std::min(kDepth, k - k0) + 2 * kTilePairs - 1) / (2 * kTilePairs) * kTilePairs;
  }
  void start_chunk(int64_t first, int64_t last) {
    c0 = first;
    c1 = last;
    padded = (c1 - c0 + kPairRows - 1) / kPairRows * kPairRows;
  }
  uint32_t* block(int64_t k0) const { return converted + k0 / kDepth * padded * kBlockWords; }
  // Converts the chunk's row tile pairs [pair0, pair1).
  TG_TILES_TARGET void convert(int64_t pair0, int64_t pair1) const {
    for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
      const int64_t s = stride(k, k0);
      for (int64_t i = c0 + pair0 * kPairRows; i < std::min(c1, c0 + pair1 * kPairRows); i += kPairRows)
        pack_a_for_tiles(a.data + i * a.row_stride + k0 * a.col_stride, a.row_stride, a.col_stride,
                         static_cast<int>(std::min(kPairRows, c1 - i)), std::min(kDepth, k - k0), s,
                         block(k0) + (i - c0) * s);
    }
  }
};

// The chunk's rows times panels [p0, p1) of B: per group of panels and block of kDepth k (B packed here unless
// `prepacked`), per row tile pair (32 rows) and panel, the 32 × 32 sums stay in tiles 0-3 over the block's k,
// then are added into C (or written), as every kernel here sums: C, then each block in turn.
TG_TILES_TARGET void tiles_panels(int64_t n, const TilesA& a, const MatrixF32& b, float* c, int64_t ldc,
                                  bool accumulate, int64_t p0, int64_t p1, const uint32_t* prepacked) {
  constexpr int64_t packed_depth = kDepth / 2, at_once = kPanelsAtOnce * 2, pair_rows = TilesA::kPairRows;
  const int64_t k = a.k;
  uint32_t* scratch_panels = prepacked ? nullptr : scratch<uint32_t>(0, at_once * packed_depth * kCols);
  static const TileConfig config;  // tiles 0-3 C sums (two row tiles by a panel's column halves), 4-5 A, 6-7 B
  _tile_loadconfig(&config);
  alignas(64) float sums[2 * kTileRows * kCols];  // a row tile pair's sums for one panel, kCols floats a row
  for (int64_t first = p0; first < p1; first += at_once) {
    const int64_t panels = std::min(at_once, p1 - first);
    for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
      const int64_t depth = std::min(kDepth, k - k0), pairs = (depth + 1) / 2;
      const int64_t steps = (pairs + kTilePairs - 1) / kTilePairs, full_steps = pairs / kTilePairs;
      const uint32_t* packed = scratch_panels;
      if (prepacked)
        packed = prepacked + packed_block_offset<Bf16TilesFormat>(n, k0) + first * pairs * kCols;
      else
        Bf16Format::pack_b(b, n, k0, depth, first, panels, scratch_panels);
      // The block's last pairs when they fill less than a tile: each panel's copied with zero pair rows after
      // them (past a panel's pairs lies the next panel, whose values times A's zero padding could be NaN).
      uint32_t* tail = nullptr;
      if (full_steps < steps) {
        tail = scratch<uint32_t>(2, panels * kTilePairs * kCols);
        const int64_t rest = pairs - full_steps * kTilePairs;
        for (int64_t q = 0; q < panels; ++q) {
          uint32_t* d = tail + q * kTilePairs * kCols;
          std::memcpy(d, packed + (q * pairs + full_steps * kTilePairs) * kCols, sizeof(uint32_t) * rest * kCols);
          std::fill(d + rest * kCols, d + kTilePairs * kCols, 0u);
        }
      }
      tile_memory_barrier();  // A's conversion, B's panels and tail before the tile loads
      const bool add = accumulate || k0 > 0;
      const int64_t stride = TilesA::stride(k, k0);  // A's words a row
      for (int64_t i = a.c0; i < a.c1; i += pair_rows) {
        const int rows = static_cast<int>(std::min(pair_rows, a.c1 - i));
        const uint32_t* a_tiles = a.block(k0) + (i - a.c0) * stride;
        const uint32_t* a_lower = a_tiles + kTileRows * stride;
        for (int64_t q = 0; q < panels; ++q) {
          const uint32_t* panel = packed + q * pairs * kCols;
          _tile_zero(0);
          _tile_zero(1);
          _tile_zero(2);
          _tile_zero(3);
          for (int64_t s = 0; s < steps; ++s) {
            const uint32_t* b_pairs = s < full_steps ? panel + s * kTilePairs * kCols : tail + q * kTilePairs * kCols;
            _tile_loadd(6, b_pairs, kCols * sizeof(uint32_t));
            _tile_loadd(7, b_pairs + kTileRows, kCols * sizeof(uint32_t));
            _tile_loadd(4, a_tiles + s * kTilePairs, stride * sizeof(uint32_t));
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            if (rows > kTileRows) {
              _tile_loadd(5, a_lower + s * kTilePairs, stride * sizeof(uint32_t));
              _tile_dpbf16ps(2, 5, 6);
              _tile_dpbf16ps(3, 5, 7);
            }
          }
          _tile_stored(0, sums, kCols * sizeof(float));
          _tile_stored(1, sums + kTileRows, kCols * sizeof(float));
          if (rows > kTileRows) {
            _tile_stored(2, sums + kTileRows * kCols, kCols * sizeof(float));
            _tile_stored(3, sums + kTileRows * kCols + kTileRows, kCols * sizeof(float));
          }
          tile_memory_barrier();  // the sums' reads after the stores
          const int64_t col0 = (first + q) * kCols;
          const int cols = static_cast<int>(std::min<int64_t>(kCols, n - col0));
          const __mmask16 lo_mask = first_lanes(cols), hi_mask = first_lanes(cols - kWidth);
          for (int r = 0; r < rows; ++r) {
            float* out = c + (i + r) * ldc + col0;
            __m512 lo = _mm512_load_ps(sums + r * kCols), hi = _mm512_load_ps(sums + r * kCols + kWidth);
            if (add) {
              lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(lo_mask, out));
              hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(hi_mask, out + kWidth));
            }
            _mm512_mask_storeu_ps(out, lo_mask, lo);
            _mm512_mask_storeu_ps(out + kWidth, hi_mask, hi);
          }
        }
      }
    }
  }
  _tile_release();
}

// gemm_part's loop for Bf16TilesFormat, on one thread: rows [r0, r1) by panels [p0, p1), A converted here.
void tiles_part(int64_t n, int64_t k, const MatrixF32& a, const MatrixF32& b, float* c, int64_t ldc, bool accumulate,
                int64_t r0, int64_t r1, int64_t p0, int64_t p1, const uint32_t* prepacked) {
  TilesA tiles_a{a, k, scratch<uint32_t>(1, TilesA::words(k, r1 - r0))};
  for (int64_t c0 = r0; c0 < r1; c0 += TilesA::chunk_rows(k)) {
    tiles_a.start_chunk(c0, std::min(r1, c0 + TilesA::chunk_rows(k)));
    tiles_a.convert(0, tiles_a.padded / TilesA::kPairRows);
    tiles_panels(n, tiles_a, b, c, ldc, accumulate, p0, p1, prepacked);
  }
}

// The tiles' product on the pool's threads when its columns are split: A converted once into the calling
// thread's scratch (its row tile pairs split over the threads), then the panels in kChunksPerThread pieces a
// thread, claimed one at a time. (Each thread converting all of A for its half of the columns did the
// conversion twice; halves of the columns left one thread waiting on the other, AMX's rate differing
// between the cores.)
void tiles_gemm(const Product& p, float* c, int64_t ldc, bool accumulate, const uint32_t* prepacked) {
  const int64_t panels = (p.n + kCols - 1) / kCols;
  const int threads = pool_threads();
  TilesA tiles_a{p.a, p.k, scratch<uint32_t>(1, TilesA::words(p.k, p.m))};
  for (int64_t c0 = 0; c0 < p.m; c0 += TilesA::chunk_rows(p.k)) {
    tiles_a.start_chunk(c0, std::min(p.m, c0 + TilesA::chunk_rows(p.k)));
    parallel_for(tiles_a.padded / TilesA::kPairRows, threads,
                 [&](int64_t begin, int64_t end) { tiles_a.convert(begin, end); });
    parallel_for(panels, std::min<int64_t>(panels, threads * kChunksPerThread), [&](int64_t begin, int64_t end) {
      tiles_panels(p.n, tiles_a, p.b, c, ldc, accumulate, begin, end, prepacked);
    });
  }
}
#endif
#endif

template <typename Format, int... R>
void tile_rows(int rows, std::integer_sequence<int, R...>, const typename Format::Operand& a,
               const typename Format::Packed* panel, int64_t depth, float* c, int64_t ldc, int cols, bool add,
               const typename Format::Packed* ahead) {
  ((rows == R + 1 ? Format::template tile<R + 1>(a, panel, depth, c, ldc, cols, add, ahead) : void()), ...);
}

// Rows [r0, r1) as row tiles of near-equal size (64 rows: 11, 11, 11, 11, 10, 10, not five of 12 and one of 4): a
// short tile reads B's panel, from L2, for a third of the multiply-adds. A row's sums do not depend on its tile.
struct RowTiles {
  int64_t r0, count, base, longer;  // the first `longer` tiles have base + 1 rows
  RowTiles(int64_t first, int64_t last)
      : r0(first), count((last - first + kRows - 1) / kRows), base(count > 0 ? (last - first) / count : 0),
        longer(count > 0 ? (last - first) % count : 0) {}
  int64_t start(int64_t t) const { return r0 + t * base + std::min(t, longer); }
  int rows(int64_t t) const { return static_cast<int>(base + (t < longer ? 1 : 0)); }
};

// A's rows [r0, r1) converted once for a whole product (Bf16Format::pack_a_into), where gemm_part would
// convert each row tile again for every group of panels and on every thread: per block of kBlockDepth k
// (whole blocks before it: k0 / 2 pairs a row), the tile at row i at (i - r0) · the block's pairs words.
struct ConvertedRows {
  uint32_t* words;
  int64_t r0, r1;
  uint32_t* tile(int64_t k0, int64_t depth, int64_t i) const {
    return words + k0 / 2 * (r1 - r0) + (i - r0) * ((depth + 1) / 2);
  }
};

// C rows [r0, r1) × panels [p0, p1). `prepacked`: all of B packed already (packed_block_offset's layout).
// `converted`: A's rows [r0, r1) converted already (ConvertedRows; Bf16Format only).
template <typename Format>
void gemm_part(int64_t n, int64_t k, const MatrixF32& a, const MatrixF32& b, float* c, int64_t ldc, bool accumulate,
               int64_t r0, int64_t r1, int64_t p0, int64_t p1, const typename Format::Packed* prepacked = nullptr,
               const ConvertedRows* converted = nullptr) {
  using Packed = typename Format::Packed;
  static constexpr int64_t block = Format::kBlockDepth;
  const int64_t packed_depth = (block + Format::kStep - 1) / Format::kStep;  // packed rows of a full block
  // Panels packed at once: a bfloat16 panel is half a float32 one, so twice as many fill the same L2 (and a
  // converted A tile serves twice the columns).
  constexpr int64_t at_once = kPanelsAtOnce * Format::kStep;
  Packed* scratch_panels = prepacked ? nullptr : scratch<Packed>(0, at_once * packed_depth * kCols);
  for (int64_t first = p0; first < p1; first += at_once) {
    const int64_t panels = std::min(at_once, p1 - first);
    for (int64_t k0 = 0; k0 < k; k0 += block) {
      const int64_t depth = std::min(block, k - k0), rows_per_panel = (depth + Format::kStep - 1) / Format::kStep;
      const Packed* packed = scratch_panels;
      if (prepacked)
        packed = prepacked + packed_block_offset<Format>(n, k0) + first * rows_per_panel * kCols;
      else
        Format::pack_b(b, n, k0, depth, first, panels, scratch_panels);
      const bool add = accumulate || k0 > 0;
      const RowTiles tiles(r0, r1);
      // The panel the tiles read after panel q's: this block's next, else the next block's first.
      auto panel_after = [&](int64_t q) -> const Packed* {
        if (q + 1 < panels) return packed + (q + 1) * rows_per_panel * kCols;
        if (k0 + block >= k) return nullptr;
        const int64_t next_rows = (std::min(block, k - k0 - block) + Format::kStep - 1) / Format::kStep;
        return prepacked + packed_block_offset<Format>(n, k0 + block) + first * next_rows * kCols;
      };
      for (int64_t t = 0; t < tiles.count; ++t) {
        const int64_t i = tiles.start(t);
        const int rows = tiles.rows(t);
        typename Format::Operand a_tile;
        if constexpr (std::is_same_v<Format, Bf16Format>)
          if (converted)
            a_tile = Format::converted(converted->tile(k0, depth, i), a.row_stride, a.col_stride, rows, depth);
        if (!converted)
          a_tile = Format::pack_a(a.data + i * a.row_stride + k0 * a.col_stride, a.row_stride, a.col_stride, rows,
                                  depth);
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t col0 = (first + q) * kCols;
          const int cols = static_cast<int>(std::min<int64_t>(kCols, n - col0));
          // C's tile is read (or written) after the tile's sums: ask for its lines now, so that a C larger than
          // L2 (a weight gradient summed over a sequence's steps, 64 k each) does not stall every tile.
          for (int r = 0; r < rows; ++r) {
            _mm_prefetch(reinterpret_cast<const char*>(c + (i + r) * ldc + col0), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(c + (i + r) * ldc + col0 + cols - 1), _MM_HINT_T0);
          }
          // A kept packing comes from memory once, for the first row tile, which asks for the next panel while it
          // works on this one: the hardware's prefetchers stop at every 4 KiB page of it. (A decoding step's
          // output layer, 42 MB kept packed, ran 1-19% faster in alternated runs: docs/performance.md.)
          const Packed* ahead = prepacked && t == 0 ? panel_after(q) : nullptr;
          // A converted once comes from memory, not from the L1 a tile's packing writes: the next row tile's words
          // are asked for, a share with each panel.
          if (converted && t + 1 < tiles.count) {
            const char* next = reinterpret_cast<const char*>(converted->tile(k0, depth, tiles.start(t + 1)));
            const int64_t bytes = tiles.rows(t + 1) * rows_per_panel * int64_t{sizeof(uint32_t)};
            for (int64_t line = q * bytes / panels / 64 * 64; line < (q + 1) * bytes / panels; line += 64)
              _mm_prefetch(next + line, _MM_HINT_T0);
          }
          tile_rows<Format>(rows, std::make_integer_sequence<int, kRows>{}, a_tile, packed + q * rows_per_panel * kCols,
                            depth, c + i * ldc + col0, ldc, cols, add, ahead);
        }
      }
    }
  }
}

#if TG_AMX_KERNELS
// The tiles' own loop (tiles_part) in place of the register tiles'.
template <>
void gemm_part<Bf16TilesFormat>(int64_t n, int64_t k, const MatrixF32& a, const MatrixF32& b, float* c, int64_t ldc,
                                bool accumulate, int64_t r0, int64_t r1, int64_t p0, int64_t p1,
                                const uint32_t* prepacked, const ConvertedRows*) {
  tiles_part(n, k, a, b, c, ldc, accumulate, r0, r1, p0, p1, prepacked);
}
#endif

// Rows [r0, r1) × panels [p0, p1) of T = Bᵀ Aᵀ (product `t`), computed into a
// scratch block, then written to C = Tᵀ: C[panel columns of T, r0:r1]. When
// accumulating, the block starts as C's values, so that each element is summed
// as on every other path: C, then each block of k added in turn.
template <typename Format>
void transposed_part(const Product& t, float* c, int64_t ldc, bool accumulate, int64_t r0, int64_t r1, int64_t p0,
                     int64_t p1) {
  constexpr int64_t kRowsAtOnce = 96 * kRows;  // bounds the scratch block: 1152 rows of T
  const int64_t c0 = p0 * kCols, c1 = std::min(p1 * kCols, t.n), cols = c1 - c0;
  for (int64_t first = r0; first < r1; first += kRowsAtOnce) {
    const int64_t rows = std::min(kRowsAtOnce, r1 - first);
    float* block = scratch<float>(1, rows * cols);  // T[first:first+rows, c0:c1], row-major
    if (accumulate)
      for (int64_t i = 0; i < cols; ++i) {  // T column c0 + i = C row c0 + i
        const float* in = c + (c0 + i) * ldc + first;
        for (int64_t j = 0; j < rows; ++j) block[j * cols + i] = in[j];
      }
    const MatrixF32 a{t.a.data + first * t.a.row_stride, t.a.row_stride, t.a.col_stride};
    const MatrixF32 b{t.b.data + c0 * t.b.col_stride, t.b.row_stride, t.b.col_stride};
    gemm_part<Format>(cols, t.k, a, b, block, cols, accumulate, 0, rows, 0, p1 - p0);
    for (int64_t i = 0; i < cols; ++i) {
      float* out = c + (c0 + i) * ldc + first;
      for (int64_t j = 0; j < rows; ++j) out[j] = block[j * cols + i];
    }
  }
}

// How a product is split over the pool's threads: not at all (one thread, or too small to repay the
// hand-off), by columns (each thread packs only its own panels of B and reads all of A), or by rows (few
// columns, many rows: each thread packs all of B).
enum class Split { none, columns, rows };
Split split_of(const Product& p) {
  const int64_t panels = (p.n + kCols - 1) / kCols, row_blocks = (p.m + kRows - 1) / kRows;
  const int threads = pool_threads();
  if (threads == 1 || p.m * p.n * p.k / kFlopsPerElement < kParallelThreshold) return Split::none;
  return panels >= 2 * threads || panels >= row_blocks ? Split::columns : Split::rows;
}

// Runs part(r0, r1, p0, p1) over the product's rows and 32-column panels, split as split_of says.
template <typename Part>
void split(const Product& p, const Part& part) {
  const int64_t panels = (p.n + kCols - 1) / kCols, row_blocks = (p.m + kRows - 1) / kRows;
  const int threads = pool_threads();
  switch (split_of(p)) {
    case Split::none:
      part(0, p.m, 0, panels);
      break;
    case Split::columns:
      parallel_for(panels, threads, [&](int64_t begin, int64_t end) { part(0, p.m, begin, end); });
      break;
    case Split::rows:
      parallel_for(row_blocks, threads, [&](int64_t begin, int64_t end) {
        part(begin * kRows, std::min(end * kRows, p.m), 0, panels);
      });
      break;
  }
}

// Whether gemm_part would convert A's rows more than once: for each group of panels, and on each thread when
// the columns are split.
bool converts_a_again(const Product& p) {
  const int64_t panels = (p.n + kCols - 1) / kCols;
  const Split how = split_of(p);
  return p.m * p.n * p.k >= kConvertOnceMultiplyAdds &&
         (how == Split::columns || (how == Split::none && panels > kPanelsAtOnce * Bf16Format::kStep));
}

// A bfloat16 product with A converted once (ConvertedRows), a chunk of rows at a time: the chunk's row tiles
// converted (split over the threads), then its rows by every panel, split as split_of says. (Converting each
// row tile again for every 512 columns, on both threads, took up to 5-14% of a weight gradient's or the output
// layer's product on Zen 5: docs/performance.md.) Same bits: each tile converts as pack_a would.
void converted_gemm(const Product& p, float* c, int64_t ldc, bool accumulate, const uint32_t* prepacked) {
  constexpr int64_t kConvertedBytes = int64_t{8} << 20, block = Bf16Format::kBlockDepth;
  const int64_t row_words = p.k / block * (block / 2) + (p.k % block + 1) / 2;
  const int64_t chunk = std::max<int64_t>(kRows, kConvertedBytes / (row_words * 4) / kRows * kRows);
  uint32_t* words = scratch<uint32_t>(2, std::min(chunk, p.m) * row_words);
  const int64_t panels = (p.n + kCols - 1) / kCols;
  const int threads = pool_threads();
  const bool split_columns = split_of(p) == Split::columns;
  for (int64_t c0 = 0; c0 < p.m; c0 += chunk) {
    const ConvertedRows rows{words, c0, std::min(p.m, c0 + chunk)};
    const RowTiles tiles(rows.r0, rows.r1);
    auto convert = [&](int64_t t0, int64_t t1) {
      for (int64_t k0 = 0; k0 < p.k; k0 += block) {
        const int64_t depth = std::min(block, p.k - k0);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t i = tiles.start(t);
          Bf16Format::pack_a_into(p.a.data + i * p.a.row_stride + k0 * p.a.col_stride, p.a.row_stride,
                                  p.a.col_stride, tiles.rows(t), depth, rows.tile(k0, depth, i));
        }
      }
    };
    auto part = [&](int64_t q0, int64_t q1) {
      gemm_part<Bf16Format>(p.n, p.k, p.a, p.b, c, ldc, accumulate, rows.r0, rows.r1, q0, q1, prepacked, &rows);
    };
    if (split_columns) {
      parallel_for(tiles.count, threads, convert);
      parallel_for(panels, threads, part);
    } else {
      convert(0, tiles.count);
      part(0, panels);
    }
  }
}

// Panels [first, last) of B (K, N) through every block, in packed_b's layout at `out`. Where B's columns are
// runs of memory (B = Wᵀ), a panel through every block before the next: its columns are read start to end,
// each once.
// `stream`: Bf16Format::pack_b's.
template <typename Format>
void pack_panels(int64_t n, int64_t k, const MatrixF32& b, int64_t first, int64_t last, typename Format::Packed* out,
                 bool stream = false) {
  static constexpr int64_t block = Format::kBlockDepth;
  const bool panel_at_a_time = columns_are_runs(b);
  for (int64_t begin = first; begin < last; begin = panel_at_a_time ? begin + 1 : last)
    for (int64_t k0 = 0; k0 < k; k0 += block) {
      const int64_t depth = std::min(block, k - k0), rows_per_panel = (depth + Format::kStep - 1) / Format::kStep;
      const int64_t panels = panel_at_a_time ? 1 : last - begin;
      typename Format::Packed* panel_out = out + packed_block_offset<Format>(n, k0) + begin * rows_per_panel * kCols;
      if constexpr (std::is_same_v<Format, Bf16Format>)
        Format::pack_b(b, n, k0, depth, begin, panels, panel_out, stream);
      else
        Format::pack_b(b, n, k0, depth, begin, panels, panel_out);
    }
}

// Pair rows [first, last) (k from 2 · first) of panels [panel_first, panel_last) of B (K, N), in Bf16Format's
// packing at `out`, block by block: rows of B packed again as they are written (kept_packing_refresh.h).
void pack_pair_rows_of_blocks(int64_t n, int64_t k, const MatrixF32& b, int64_t first, int64_t last,
                              int64_t panel_first, int64_t panel_last, uint32_t* out) {
  constexpr int64_t block_pairs = Bf16Format::kBlockDepth / 2;
  for (int64_t p = first; p < last;) {
    const int64_t block_first = p / block_pairs * block_pairs, end = std::min(last, block_first + block_pairs);
    const int64_t k0 = 2 * block_first, panel_stride = (std::min(Bf16Format::kBlockDepth, k - k0) + 1) / 2 * kCols;
    Bf16Format::pack_pair_rows(b, n, 2 * p, std::min(2 * (end - p), k - 2 * p), panel_first, panel_last - panel_first,
                               out + packed_block_offset<Bf16Format>(n, k0) + panel_first * panel_stride +
                                   (p - block_first) * kCols,
                               panel_stride, true);
    p = end;
  }
}

// B (K, N) packed whole from the cache, or packed into it (its panels split over the threads).
template <typename Format>
std::shared_ptr<const PackedOperandCache::Words> packed_b(int64_t n, int64_t k, const MatrixF32& b) {
  static_assert(sizeof(typename Format::Packed) == sizeof(uint32_t));
  static constexpr int64_t block = Format::kBlockDepth;
  const int64_t panels = (n + kCols - 1) / kCols;
  const int64_t words = packed_block_offset<Format>(n, k + block - 1);  // every block as a full one
  const PackedKey key{b.storage_id, b.storage_version, b.data, b.row_stride, b.col_stride, k, n, Format::kId};
  return packed_operand_cache().get(key, static_cast<size_t>(words), [&](uint32_t* words_out) {
    auto* out = reinterpret_cast<typename Format::Packed*>(words_out);
    parallel_for(panels, pool_threads(), [&](int64_t begin, int64_t end) { pack_panels<Format>(n, k, b, begin, end, out); });
  });
}

// The thin paths: products too thin to repay packing B, read in place with the arithmetic of the format's
// float32 tile (per block of kDepth k, each C element's sum starts at zero and gathers a · B[kk, j] in
// increasing kk with fused multiply-adds, then is added into C), so they give the bits the tiles give.

// C[0, j0:j1] (+)= A[0, :] @ B[:, j0:j1] for one row of A against a B whose rows are runs of memory, a row of
// B at a time. (A decoding step's attention context, weights (1, S) @ values (S, 2H): packing B for one row
// cost more than the product.)
void row_times_matrix(int64_t k, const MatrixF32& a, const MatrixF32& b, float* c, bool accumulate, int64_t j0,
                      int64_t j1) {
  const int64_t cols = j1 - j0, vectors = (cols + kWidth - 1) / kWidth;
  __m512* sums = scratch<__m512>(1, vectors);
  for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
    std::fill_n(sums, vectors, _mm512_setzero_ps());
    for (int64_t kk = k0; kk < std::min(k, k0 + kDepth); ++kk) {
      const __m512 av = _mm512_set1_ps(a.data[kk * a.col_stride]);
      const float* row = b.data + kk * b.row_stride + j0;
      for (int64_t v = 0; v < vectors; ++v) {
        const __m512 bv = _mm512_maskz_loadu_ps(first_lanes(cols - v * kWidth), row + v * kWidth);
        sums[v] = _mm512_fmadd_ps(av, bv, sums[v]);
      }
    }
    const bool add = accumulate || k0 > 0;
    for (int64_t v = 0; v < vectors; ++v) {
      const __mmask16 lanes = first_lanes(cols - v * kWidth);
      float* out = c + j0 + v * kWidth;
      _mm512_mask_storeu_ps(out, lanes, add ? _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, out), sums[v]) : sums[v]);
    }
  }
}

// The same for a B whose columns are runs of memory (B = Kᵀ: a step's attention scores against the keys, or
// their gradient), 2 × 16 columns side by side: 16 k of each column are loaded (a run of memory each) and
// transposed into 16 vectors of one k's columns, each then one multiply-add into the columns' sums. (Reading
// one value a column and k, 16 columns often a whole row of memory apart share one set of L1 ways and every
// read went to L2; two sets of sums hide the multiply-add's latency.)
void row_times_columns(int64_t k, const MatrixF32& a, const MatrixF32& b, float* c, bool accumulate, int64_t j0,
                       int64_t j1) {
  constexpr int kSets = 2;
  for (int64_t j = j0; j < j1; j += kSets * kWidth) {
    const int64_t cols = std::min<int64_t>(kSets * kWidth, j1 - j);
    const int sets = static_cast<int>((cols + kWidth - 1) / kWidth);
    const float* column[kSets * kWidth];  // past the last column: the last again (read, never stored)
    for (int jj = 0; jj < kSets * kWidth; ++jj)
      column[jj] = b.data + (j + std::min<int64_t>(jj, cols - 1)) * b.col_stride;
    for (int64_t k0 = 0; k0 < k; k0 += kDepth) {
      const int64_t k1 = std::min(k, k0 + kDepth);
      __m512 sums[kSets] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int64_t kk = k0; kk < k1; kk += kWidth) {
        const int64_t run = std::min<int64_t>(kWidth, k1 - kk);
        const __mmask16 lanes = first_lanes(run);
        __m512i words[kSets][kWidth];
        for (int set = 0; set < sets; ++set) {
          for (int jj = 0; jj < kWidth; ++jj)
            words[set][jj] = _mm512_castps_si512(_mm512_maskz_loadu_ps(lanes, column[set * kWidth + jj] + kk));
          transpose_words(words[set]);  // words[set][q]: k = kk + q of the set's 16 columns
        }
        for (int64_t q = 0; q < run; ++q) {
          const __m512 av = _mm512_set1_ps(a.data[(kk + q) * a.col_stride]);
          for (int set = 0; set < sets; ++set)
            sums[set] = _mm512_fmadd_ps(av, _mm512_castsi512_ps(words[set][q]), sums[set]);
        }
      }
      const bool add = accumulate || k0 > 0;
      for (int set = 0; set < sets; ++set) {
        const __mmask16 out_lanes = first_lanes(cols - set * kWidth);
        float* out = c + j + set * kWidth;
        _mm512_mask_storeu_ps(out, out_lanes,
                              add ? _mm512_add_ps(_mm512_maskz_loadu_ps(out_lanes, out), sums[set]) : sums[set]);
      }
    }
  }
}

// C[r0:r1, :] (+)= A[r0:r1, 0] B[0, :], one term a sum (K = 1: an attention context's gradient for its values,
// (S, 1) @ (1, 2H)): each C element a · b rounded (as the tile's fused multiply-add into zero), then added into C.
void column_times_row(int64_t n, const MatrixF32& a, const MatrixF32& b, float* c, int64_t ldc, bool accumulate,
                      int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const __m512 av = _mm512_set1_ps(a.data[r * a.row_stride]);
    float* out = c + r * ldc;
    for (int64_t j = 0; j < n; j += kWidth) {
      const __mmask16 lanes = first_lanes(n - j);
      __m512 bv;
      if (b.col_stride == 1) {
        bv = _mm512_maskz_loadu_ps(lanes, b.data + j);
      } else {
        alignas(64) float values[kWidth] = {};
        for (int64_t jj = 0; jj < std::min<int64_t>(kWidth, n - j); ++jj) values[jj] = b.data[(j + jj) * b.col_stride];
        bv = _mm512_load_ps(values);
      }
      const __m512 product = _mm512_fmadd_ps(av, bv, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(out + j, lanes,
                            accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, out + j), product) : product);
    }
  }
}

// C (M, N) (+)= A @ B in the format's arithmetic.
template <typename Format>
void gemm(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    return;
  }
  // A parameter's packing is kept until it is written: always where packing converts it, and for few rows
  // where it only copies (a recurrent or decoder step multiplies a weight of k·n by m ≤ kKeepPackedRows rows,
  // so copying it costs as much as a fifth of the product; the same weight recurs every step).
  if (b.storage_id != 0 && keep_packed_parameters() && (Format::kConverts || m <= kKeepPackedRows)) {
    const std::shared_ptr<const PackedOperandCache::Words> packed = packed_b<Format>(n, k, b);
    const Product p{m, n, k, a, b};
#if TG_AMX_KERNELS
    if constexpr (std::is_same_v<Format, Bf16TilesFormat>)
      if (split_of(p) == Split::columns && m * n * k >= kConvertOnceMultiplyAdds)
        return tiles_gemm(p, c, ldc, accumulate, packed->data());
#endif
    if constexpr (std::is_same_v<Format, Bf16Format>)
      if (converts_a_again(p)) return converted_gemm(p, c, ldc, accumulate, packed->data());
    split(p, [&](int64_t r0, int64_t r1, int64_t p0, int64_t p1) {
      gemm_part<Format>(n, k, a, b, c, ldc, accumulate, r0, r1, p0, p1,
                        reinterpret_cast<const typename Format::Packed*>(packed->data()));
    });
    return;
  }
  if constexpr (std::is_same_v<Format, F32Format>) {  // B not kept packed: one row, or one term
    if (m == 1 && (b.col_stride == 1 || b.row_stride == 1)) {
      const int64_t chunks = (n + kCols - 1) / kCols;  // whole panels per thread, as split cuts the columns
      const int threads = n * k / kFlopsPerElement < kParallelThreshold ? 1 : pool_threads();
      parallel_for(chunks, threads, [&](int64_t begin, int64_t end) {
        const int64_t j0 = begin * kCols, j1 = std::min(end * kCols, n);
        if (b.col_stride == 1)
          row_times_matrix(k, a, b, c, accumulate, j0, j1);
        else
          row_times_columns(k, a, b, c, accumulate, j0, j1);
      });
      return;
    }
    if (k == 1) {
      const int threads = m * n < kParallelThreshold ? 1 : pool_threads();
      parallel_for(m, threads, [&](int64_t r0, int64_t r1) {
        column_times_row(n, a, b, c, ldc, accumulate, r0, r1);
      });
      return;
    }
  }
  if ((Format::kStep == 1 || columns_are_runs(b)) && m * (k + 2 * n) < k * n) {
    // Few rows against a large B (a decoder step against the output layer, h W_hhᵀ): B is read in place as
    // the A of T = Bᵀ Aᵀ and only A's rows are packed (k·m copies instead of k·n), then T is added into
    // C = Tᵀ, a strided pass over m·n that costs about two copies an element. (bfloat16 products convert
    // all of B either way: packing a row-major B as B is the faster conversion, a transposed one as Bᵀ's
    // rows, 32 values at a time. A pair sums the same two products either way round.)
    const Product t{n, m, k, {b.data, b.col_stride, b.row_stride}, {a.data, a.col_stride, a.row_stride}};
    split(t, [&](int64_t r0, int64_t r1, int64_t p0, int64_t p1) {
      transposed_part<Format>(t, c, ldc, accumulate, r0, r1, p0, p1);
    });
    return;
  }
  const Product p{m, n, k, a, b};
#if TG_AMX_KERNELS
  if constexpr (std::is_same_v<Format, Bf16TilesFormat>)
    if (split_of(p) == Split::columns && m * n * k >= kConvertOnceMultiplyAdds)
      return tiles_gemm(p, c, ldc, accumulate, nullptr);
#endif
  if constexpr (std::is_same_v<Format, Bf16Format>)
    if (converts_a_again(p)) return converted_gemm(p, c, ldc, accumulate, nullptr);
  split(p, [&](int64_t r0, int64_t r1, int64_t p0, int64_t p1) {
    gemm_part<Format>(n, k, a, b, c, ldc, accumulate, r0, r1, p0, p1);
  });
}

}  // namespace

#if TG_OWN_KERNELS_CHECKED_AT_RUN_TIME
#pragma GCC pop_options
#endif

namespace {
// Whether this processor has the instructions the own kernels were compiled with; asked once.
bool own_kernels_run_here(bool bf16) {
  if (!TG_OWN_KERNELS_CHECKED_AT_RUN_TIME) return bf16 ? TG_BF16_KERNELS : true;
  static const bool f32 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  }();
  static const bool with_bf16 = f32 && __builtin_cpu_supports("avx512bf16");
  return bf16 ? with_bf16 : f32;
}
}  // namespace

bool own_sgemm_runs_here() { return own_kernels_run_here(false); }

void own_sgemm(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float* c, int64_t ldc, bool accumulate) {
  if (!own_kernels_run_here(false)) fail("own_sgemm: this processor has no AVX-512 (F, BW, DQ, VL)");
  gemm<F32Format>(m, n, k, a, b, c, ldc, accumulate);
}

#if TG_BF16_KERNELS
bool bf16_products_built() { return own_kernels_run_here(true); }

namespace {
// Whether this process may use AMX's bfloat16 tiles with the other own kernels (amx_tiles.h). Asked once.
bool tiles_run_here() {
#if TG_AMX_KERNELS
  static const bool granted = own_kernels_run_here(true) && amx_bf16_granted();
  return granted;
#else
  return false;
#endif
}

// TG_BF16_KERNEL: "dpbf16", "fma", "amx" or unset (chosen by the processor: AMD's Zen 4 and 5 issue vdpbf16ps
// at vfmadd231ps's rate, twice its flops; Intel's Sapphire and Emerald Rapids at half of it, but have AMX's
// tiles, 16 times float32's multiply-adds a cycle; an Intel processor without AMX multiplies rounded inputs with
// float32 multiply-adds, vdpbf16ps's flops at float32's rate).
Bf16Kernel chosen_bf16_kernel() {
  const char* choice = std::getenv("TG_BF16_KERNEL");
  const std::string_view value = choice == nullptr ? "" : choice;
  if (value == "dpbf16") return Bf16Kernel::dpbf16;
  if (value == "fma") return Bf16Kernel::fma;
  if (value == "amx") {
    if (!tiles_run_here())
      fail("TG_BF16_KERNEL=amx: this {} has no AMX-BF16 tiles it may use (processor, build or Linux); unset it or "
           "choose dpbf16 or fma", TG_AMX_KERNELS ? "processor" : "build");
    return Bf16Kernel::amx;
  }
  if (!value.empty()) fail("TG_BF16_KERNEL must be dpbf16, fma or amx (or unset), got '{}'", value);
  __builtin_cpu_init();
  if (__builtin_cpu_is("amd")) return Bf16Kernel::dpbf16;
  return tiles_run_here() ? Bf16Kernel::amx : Bf16Kernel::fma;
}
std::atomic<Bf16Kernel>& bf16_kernel_setting() {
  static std::atomic<Bf16Kernel> kernel{chosen_bf16_kernel()};
  return kernel;
}
}  // namespace

bool amx_tiles_run_here() { return tiles_run_here(); }
Bf16Kernel bf16_kernel() { return bf16_kernel_setting().load(std::memory_order_relaxed); }
void set_bf16_kernel(Bf16Kernel kernel) {
  if (kernel == Bf16Kernel::amx && !tiles_run_here()) fail("set_bf16_kernel: AMX tiles do not run here");
  bf16_kernel_setting().store(kernel, std::memory_order_relaxed);
}

void own_bf16gemm(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float* c, int64_t ldc, bool accumulate) {
  if (!bf16_products_built()) fail("own_bf16gemm: this processor has no AVX512-BF16");
  switch (bf16_kernel()) {
    case Bf16Kernel::dpbf16:
      gemm<Bf16Format>(m, n, k, a, b, c, ldc, accumulate);
      return;
    case Bf16Kernel::fma:
      gemm<Bf16OnFmaFormat>(m, n, k, a, b, c, ldc, accumulate);
      return;
    case Bf16Kernel::amx:
#if TG_AMX_KERNELS
      gemm<Bf16TilesFormat>(m, n, k, a, b, c, ldc, accumulate);
      return;
#endif
      break;
  }
  fail("own_bf16gemm: no kernel {}", static_cast<int>(bf16_kernel()));
}

int bf16_packing_format() { return Bf16Format::kId; }
void repack_bf16_panels(const PackedKey& key, uint32_t* words, int64_t first, int64_t last) {
  const MatrixF32 b{static_cast<const float*>(key.data), key.row_stride, key.col_stride};
  pack_panels<Bf16Format>(key.cols, key.rows, b, first, last, words, true);
  _mm_sfence();  // the streamed stores seen by the thread that reads the packing next
}
void repack_bf16_pair_rows(const PackedKey& key, uint32_t* words, int64_t first, int64_t last, int64_t panel_first,
                           int64_t panel_last) {
  const MatrixF32 b{static_cast<const float*>(key.data), key.row_stride, key.col_stride};
  pack_pair_rows_of_blocks(key.cols, key.rows, b, first, last, panel_first, panel_last, words);
  _mm_sfence();
}
#endif

#else  // no AVX-512 kernels in this build: OpenBLAS does every product

bool own_sgemm_runs_here() { return false; }
void own_sgemm(int64_t, int64_t, int64_t, MatrixF32, MatrixF32, float*, int64_t, bool) {
  fail("own_sgemm: this build has no own kernel; float32 products run on OpenBLAS here");
}

#endif

#if !TG_BF16_KERNELS
bool bf16_products_built() { return false; }
bool amx_tiles_run_here() { return false; }
Bf16Kernel bf16_kernel() { return Bf16Kernel::fma; }
void set_bf16_kernel(Bf16Kernel) {}
void own_bf16gemm(int64_t, int64_t, int64_t, MatrixF32, MatrixF32, float*, int64_t, bool) {
  fail("own_bf16gemm: this build has no AVX512-BF16 kernel; bf16 products round their inputs and run in float32 here");
}
int bf16_packing_format() { return -1; }  // no entry has it: nothing is made again
void repack_bf16_panels(const PackedKey&, uint32_t*, int64_t, int64_t) {}
void repack_bf16_pair_rows(const PackedKey&, uint32_t*, int64_t, int64_t, int64_t, int64_t) {}
#endif

}  // namespace tg::cpu
