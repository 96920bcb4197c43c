// The cpu backend's int8 product (int8_linear.h) on AVX512-VNNI: vpdpbusd
// multiplies 4 unsigned bytes by 4 signed bytes and adds the 4 products into
// an int32, 16 columns at a time. The inputs' codes p (signed) go in as
// p + 128 (unsigned), and 128 Σ_k q_jk comes off again: the same exact int32
// sum as the reference body's, the same float arithmetic after it, so the
// two agree bit for bit. A 12-row by 32-column register tile as in the float
// kernels (backends/cpu/cpu_gemm.cpp), over blocks of k; threads split the
// panels of columns.
// On AMX (int8_linear_cpu.h) tdpbusd forms the same unsigned-by-signed sums
// 16 × 16 at a time, from the same weight codes in place.
// Without VNNI in the build the reference body runs.
#include "kernels/int8_linear/int8_linear_cpu.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "backends/cpu/amx_tiles.h"
#include "backends/cpu/cpu_loops.h"
#include "core/services/error.h"
#include "kernels/int8_linear/int8_linear.h"

namespace tg::kernels {

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)

// AMX's int8 tiles where the compiler has their intrinsics (amx_tiles.h).
#define TG_AMX_INT8 TG_AMX_INTRINSICS

namespace {

// Whether this process may use AMX's int8 tiles (amx_tiles.h). Asked once.
bool tiles_run_here() {
  static const bool granted = TG_AMX_INT8 && cpu::amx_int8_granted();
  return granted;
}

// TG_INT8_KERNEL: "vnni", "amx", or unset (amx where the tiles run).
Int8Kernel chosen_int8_kernel() {
  const char* choice = std::getenv("TG_INT8_KERNEL");
  const std::string_view value = choice == nullptr ? "" : choice;
  if (value == "vnni") return Int8Kernel::vnni;
  if (value == "amx") {
    if (!tiles_run_here())
      fail("TG_INT8_KERNEL=amx: this {} has no AMX-INT8 tiles it may use (processor, build or Linux); unset it or "
           "choose vnni", TG_AMX_INT8 ? "processor" : "build");
    return Int8Kernel::amx;
  }
  if (!value.empty()) fail("TG_INT8_KERNEL must be vnni or amx (or unset), got '{}'", value);
  return tiles_run_here() ? Int8Kernel::amx : Int8Kernel::vnni;
}
std::atomic<Int8Kernel>& int8_kernel_setting() {
  static std::atomic<Int8Kernel> kernel{chosen_int8_kernel()};
  return kernel;
}

}  // namespace

std::vector<Int8Kernel> int8_kernels_here() {
  std::vector<Int8Kernel> kernels{Int8Kernel::vnni};
  if (tiles_run_here()) kernels.push_back(Int8Kernel::amx);
  return kernels;
}
Int8Kernel int8_kernel() { return int8_kernel_setting().load(std::memory_order_relaxed); }
void set_int8_kernel(Int8Kernel kernel) {
  if (kernel == Int8Kernel::reference || (kernel == Int8Kernel::amx && !tiles_run_here()))
    fail("set_int8_kernel: that kernel does not run here");
  int8_kernel_setting().store(kernel, std::memory_order_relaxed);
}

namespace {

constexpr int kRows = 12;
constexpr int64_t kTileRows = 16;   // AMX: rows of every tile; a C tile is 16 × 16 int32
constexpr int64_t kTileQuads = 16;  // AMX: quads of k in an A tile's row (64 bytes), quad rows in a B tile
constexpr int64_t kPanel = Int8Rows::kPanel;
// Quads of k per block: a panel's block (128 · 128 bytes, 16 KiB) and a tile's rows of it (12 · 512 bytes)
// stay in L1 while every row tile passes over them, where a whole panel (K/4 · 128 bytes, 57 KiB for the
// output layer's K = 1792) would stream from L2 once a row tile. (Measured alone, before the sums were kept
// in registers, the blocks changed nothing; the 37% of vpdpbusd's rate was the stack, below.)
constexpr int64_t kBlockQuads = 128;

// acc[0:R, 0:32] (+)= the tile's unsigned quads [q0, q1) (quad-major: R words a quad) · the panel's codes, in
// int32 (exact: the order of the sums does not matter). Quad-major, the R values of a step are one run of
// memory, read through one pointer.
template <int R>
void tile(const uint32_t* a, int64_t q0, int64_t q1, const int8_t* panel, int32_t* acc, bool first) {
  // The block's sums from zero, added to acc after. Each loop over r is unrolled by pragma: at -O3 GCC 12
  // otherwise kept the 24 sums on the stack, storing each after every vpdpbusd (37% of the instruction's rate).
  __m512i lo[R], hi[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm512_setzero_si512();
  for (int64_t q = q0; q < q1; ++q) {
    const __m512i b0 = _mm512_loadu_si512(panel + q * kPanel * 4);
    const __m512i b1 = _mm512_loadu_si512(panel + q * kPanel * 4 + 64);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(a[q * R + r]));
      lo[r] = _mm512_dpbusd_epi32(lo[r], av, b0);
      hi[r] = _mm512_dpbusd_epi32(hi[r], av, b1);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    int32_t* row = acc + r * kPanel;
    _mm512_storeu_si512(row, first ? lo[r] : _mm512_add_epi32(lo[r], _mm512_loadu_si512(row)));
    _mm512_storeu_si512(row + 16, first ? hi[r] : _mm512_add_epi32(hi[r], _mm512_loadu_si512(row + 16)));
  }
}

template <int... R>
void tile_rows(int rows, std::integer_sequence<int, R...>, const uint32_t* a, int64_t q0, int64_t q1,
               const int8_t* panel, int32_t* acc, bool first) {
  ((rows == R + 1 ? tile<R + 1>(a, q0, q1, panel, acc, first) : void()), ...);
}

// y[i, panel's cols] = t_i s_j (acc_ij − 128 sum_j) (+ b_j) for the panel's `rows` rows: the reference body's
// float arithmetic (one product for the scale, one conversion, one fma or product), 16 columns at a time.
void finish_panel(const int32_t* acc, int64_t rows, const float* row_scales, const float* scales,
                  const int32_t* sums, const float* bias, float* y, int64_t ldy, int cols) {
  for (int half = 0; half < 2; ++half) {
    const int width = std::clamp(cols - 16 * half, 0, 16);
    if (width == 0) break;
    const __mmask16 mask = static_cast<__mmask16>((1u << width) - 1);
    const __m512 s = _mm512_maskz_loadu_ps(mask, scales + 16 * half);
    // 128 sum_j. (mullo and maskz_cvt rather than slli and cvt: GCC 12's headers fill those with an
    // "undefined" vector that -Wmaybe-uninitialized reports.)
    const __m512i correction =
        _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(mask, sums + 16 * half), _mm512_set1_epi32(128));
    const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(mask, bias + 16 * half) : _mm512_setzero_ps();
    for (int64_t r = 0; r < rows; ++r) {
      const __m512i sum = _mm512_sub_epi32(_mm512_loadu_si512(acc + r * kPanel + 16 * half), correction);
      const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(row_scales[r]), s);
      const __m512 total = _mm512_maskz_cvtepi32_ps(0xffff, sum);
      const __m512 out = bias != nullptr ? _mm512_fmadd_ps(scale, total, b) : _mm512_mul_ps(scale, total);
      _mm512_mask_storeu_ps(y + r * ldy + 16 * half, mask, out);
    }
  }
}

#if TG_AMX_INT8
#define TG_INT8_TILES_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,amx-tile,amx-int8")))

// acc[0:rows, 0:32] = A's rows · the panel's codes, in int32. A: `rows` (a multiple of 16) rows of unsigned
// quads, `stride` quads apart (whole tiles; zero past the weight's quads). The panel's quad row is 32 columns
// of 4 bytes, two B tiles' rows side by side, read in place; its last quads, when they fill less than a tile,
// from `tail` (copied with zero quad rows after them: past a panel lies the next one). Tiles 0-3 hold a row
// tile pair's 32 × 32 sums, 4-5 A's two row tiles, 6-7 the panel's two column halves.
TG_INT8_TILES_TARGET void tiles_panel(const uint32_t* a, int64_t rows, int64_t stride, const int8_t* panel,
                                      int64_t quads, int8_t* tail, int32_t* acc) {
  constexpr int64_t quad_row = kPanel * 4;  // bytes
  const int64_t full_steps = quads / kTileQuads, steps = stride / kTileQuads;
  if (full_steps < steps) {
    const int64_t rest = quads - full_steps * kTileQuads;
    std::memcpy(tail, panel + full_steps * kTileQuads * quad_row, static_cast<size_t>(rest * quad_row));
    std::fill(tail + rest * quad_row, tail + kTileQuads * quad_row, int8_t{0});
  }
  cpu::tile_memory_barrier();
  for (int64_t i = 0; i < rows; i += 2 * kTileRows) {
    const bool lower = rows - i > kTileRows;
    const uint32_t* upper_rows = a + i * stride;
    const uint32_t* lower_rows = upper_rows + kTileRows * stride;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t step = 0; step < steps; ++step) {
      const int8_t* b = step < full_steps ? panel + step * kTileQuads * quad_row : tail;
      _tile_loadd(6, b, quad_row);
      _tile_loadd(7, b + quad_row / 2, quad_row);
      _tile_loadd(4, upper_rows + step * kTileQuads, stride * 4);
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      if (lower) {
        _tile_loadd(5, lower_rows + step * kTileQuads, stride * 4);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
      }
    }
    _tile_stored(0, acc + i * kPanel, kPanel * 4);
    _tile_stored(1, acc + i * kPanel + kPanel / 2, kPanel * 4);
    if (lower) {
      _tile_stored(2, acc + (i + kTileRows) * kPanel, kPanel * 4);
      _tile_stored(3, acc + (i + kTileRows) * kPanel + kPanel / 2, kPanel * 4);
    }
  }
  cpu::tile_memory_barrier();
}

// Panels [begin, end) of y on the tiles: per panel the int32 sums of all (padded) rows, then finish_panel.
TG_INT8_TILES_TARGET void tiles_panels(const Int8Rows& w, const uint32_t* a, int64_t m, int64_t rows,
                                       int64_t stride, const float* row_scales, const float* bias, float* y,
                                       int64_t begin, int64_t end) {
  static const cpu::TileConfig config;
  _tile_loadconfig(&config);
  const int64_t n = w.rows, quads = w.quads();
  std::vector<int32_t> acc(static_cast<size_t>(rows * kPanel));
  alignas(64) int8_t tail[kTileQuads * kPanel * 4];
  for (int64_t p = begin; p < end; ++p) {
    const int64_t col0 = p * kPanel;
    tiles_panel(a, rows, stride, w.codes.data() + p * quads * kPanel * 4, quads, tail, acc.data());
    finish_panel(acc.data(), m, row_scales, w.scales.data() + col0, w.sums.data() + col0,
                 bias == nullptr ? nullptr : bias + col0, y + col0, n, static_cast<int>(std::min(kPanel, n - col0)));
  }
  _tile_release();
}
#endif

void int8_linear_cpu(Backend&, const Int8LinearArgs& args) {
  const Int8Rows& w = *args.weight;
  const int64_t m = args.x.shape[0], n = w.rows, k = w.cols, quads = w.quads();
  if (m == 0 || n == 0) return;
  // The inputs' codes, + 128, as quads of unsigned bytes (zero codes past K: 128, against zero weights). For
  // vpdpbusd a row tile at a time quad-major: row i = t + r of the tile from row t (of `rows`), quad q at
  // t · quads + q · rows + r. For the tiles row-major, `stride` quads a row (whole tiles, zero after the
  // row's quads) and rows up to a whole tile (zero).
  const bool tiles = int8_kernel() == Int8Kernel::amx;
  const int64_t stride = tiles ? (quads + kTileQuads - 1) / kTileQuads * kTileQuads : quads;
  const int64_t padded_rows = tiles ? (m + kTileRows - 1) / kTileRows * kTileRows : m;
  std::vector<uint32_t> inputs(static_cast<size_t>(padded_rows * stride), 0u);
  std::vector<float> row_scales(static_cast<size_t>(m));
  std::vector<int8_t> codes(static_cast<size_t>(quads * 4), 0);
  std::vector<uint32_t> row_quads(static_cast<size_t>(tiles ? 0 : quads));  // vpdpbusd: a row before its scatter
  for (int64_t i = 0; i < m; ++i) {
    row_scales[i] = quantize_row(args.x.as<const float>() + i * args.x.strides[0], k, codes.data());
    // The tiles' row is written in place; vpdpbusd's is scattered into its tile below.
    auto* bytes = reinterpret_cast<uint8_t*>(tiles ? inputs.data() + i * stride : row_quads.data());
    for (int64_t kk = 0; kk < quads * 4; ++kk) bytes[kk] = static_cast<uint8_t>(codes[kk] + 128);
    if (tiles) continue;
    const int64_t t = i / kRows * kRows, rows = std::min<int64_t>(kRows, m - t);
    for (int64_t q = 0; q < quads; ++q) inputs[static_cast<size_t>(t * quads + q * rows + (i - t))] = row_quads[q];
  }
  std::vector<float> bias;
  if (args.bias.data != nullptr) {
    bias.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) bias[j] = args.bias.as<const float>()[j * args.bias.strides[0]];
  }
  const int64_t panels = (n + kPanel - 1) / kPanel;
#if TG_AMX_INT8
  if (tiles) {
    cpu::parallel_ranges(panels, m * n * k / cpu::kFlopsPerElement, [&](int64_t begin, int64_t end) {
      tiles_panels(w, inputs.data(), m, padded_rows, stride, row_scales.data(), bias.empty() ? nullptr : bias.data(),
                   args.y.as<float>(), begin, end);
    });
    return;
  }
#endif
  cpu::parallel_ranges(panels, m * n * k / cpu::kFlopsPerElement, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> acc(static_cast<size_t>(m * kPanel));  // the panel's int32 sums, (m, 32)
    for (int64_t p = begin; p < end; ++p) {
      const int64_t col0 = p * kPanel;
      const int cols = static_cast<int>(std::min(kPanel, n - col0));
      const int8_t* panel = w.codes.data() + p * quads * kPanel * 4;
      for (int64_t q0 = 0; q0 < quads; q0 += kBlockQuads)
        for (int64_t i = 0; i < m; i += kRows) {
          const int rows = static_cast<int>(std::min<int64_t>(kRows, m - i));
          tile_rows(rows, std::make_integer_sequence<int, kRows>{}, inputs.data() + i * quads, q0,
                    std::min(quads, q0 + kBlockQuads), panel, acc.data() + i * kPanel, q0 == 0);
        }
      finish_panel(acc.data(), m, row_scales.data(), w.scales.data() + col0, w.sums.data() + col0,
                   bias.empty() ? nullptr : bias.data() + col0, args.y.as<float>() + col0, n, cols);
    }
  });
}

const RegisterKernel cpu_int8(int8_linear_table(), "cpu", &int8_linear_cpu);

}  // namespace

#else

std::vector<Int8Kernel> int8_kernels_here() { return {}; }
Int8Kernel int8_kernel() { return Int8Kernel::reference; }
void set_int8_kernel(Int8Kernel kernel) {
  if (kernel != Int8Kernel::reference) fail("set_int8_kernel: this build has no AVX512-VNNI target");
}

#endif

}  // namespace tg::kernels
