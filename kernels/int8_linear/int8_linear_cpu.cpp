// The cpu backend's int8 product (int8_linear.h) on AVX512-VNNI: vpdpbusd
// multiplies 4 unsigned bytes by 4 signed bytes and adds the 4 products into
// an int32, 16 columns at a time. The inputs' codes p (signed) go in as
// p + 128 (unsigned), and 128 Σ_k q_jk comes off again: the same exact int32
// sum as the reference body's, the same float arithmetic after it, so the
// two agree bit for bit. A 12-row by 32-column register tile as in the float
// kernels (backends/cpu/cpu_gemm.cpp), over blocks of k; threads split the
// panels of columns.
// Without VNNI in the build the reference body runs.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_loops.h"
#include "kernels/int8_linear/int8_linear.h"

namespace tg::kernels {

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)

namespace {

constexpr int kRows = 12;
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

void int8_linear_cpu(Backend&, const Int8LinearArgs& args) {
  const Int8Rows& w = *args.weight;
  const int64_t m = args.x.shape[0], n = w.rows, k = w.cols, quads = w.quads();
  if (m == 0 || n == 0) return;
  // The inputs' codes, + 128, as quads of unsigned bytes (zero codes past K: 128, against zero weights), a
  // row tile at a time quad-major: row i = t + r of the tile from row t (of `rows`), quad q at
  // t · quads + q · rows + r.
  std::vector<uint32_t> inputs(static_cast<size_t>(m * quads));
  std::vector<float> row_scales(static_cast<size_t>(m));
  std::vector<int8_t> codes(static_cast<size_t>(quads * 4), 0);
  std::vector<uint32_t> row_quads(static_cast<size_t>(quads));
  for (int64_t i = 0; i < m; ++i) {
    row_scales[i] = quantize_row(args.x.as<const float>() + i * args.x.strides[0], k, codes.data());
    auto* bytes = reinterpret_cast<uint8_t*>(row_quads.data());
    for (int64_t kk = 0; kk < quads * 4; ++kk) bytes[kk] = static_cast<uint8_t>(codes[kk] + 128);
    const int64_t t = i / kRows * kRows, rows = std::min<int64_t>(kRows, m - t);
    for (int64_t q = 0; q < quads; ++q) inputs[static_cast<size_t>(t * quads + q * rows + (i - t))] = row_quads[q];
  }
  std::vector<float> bias;
  if (args.bias.data != nullptr) {
    bias.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) bias[j] = args.bias.as<const float>()[j * args.bias.strides[0]];
  }
  const int64_t panels = (n + kPanel - 1) / kPanel;
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

#endif

}  // namespace tg::kernels
