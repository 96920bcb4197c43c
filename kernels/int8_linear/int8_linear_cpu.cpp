// The cpu backend's int8 product (int8_linear.h) on AVX512-VNNI: vpdpbusd
// multiplies 4 unsigned bytes by 4 signed bytes and adds the 4 products into
// an int32, 16 columns at a time. The inputs' codes p (signed) go in as
// p + 128 (unsigned), and 128 Σ_k q_jk comes off again: the same exact int32
// sum as the reference body's, the same float arithmetic after it, so the
// two agree bit for bit. A 12-row by 32-column register tile as in the float
// kernels (backends/cpu/cpu_gemm.cpp); threads split the panels of columns.
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

// c[0:R, panel's cols] = t_i s_j (acc_ij − 128 sum_j) (+ b_j), from the rows' unsigned quads `a` (quads words a row).
template <int R>
void tile(const uint32_t* a, int64_t quads, const int8_t* panel, const float* row_scales, const float* scales,
          const int32_t* sums, const float* bias, float* y, int64_t ldy, int cols) {
  __m512i lo[R], hi[R];
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm512_setzero_si512();
  for (int64_t q = 0; q < quads; ++q) {
    const __m512i b0 = _mm512_loadu_si512(panel + q * kPanel * 4);
    const __m512i b1 = _mm512_loadu_si512(panel + q * kPanel * 4 + 64);
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(a[r * quads + q]));
      lo[r] = _mm512_dpbusd_epi32(lo[r], av, b0);
      hi[r] = _mm512_dpbusd_epi32(hi[r], av, b1);
    }
  }
  for (int r = 0; r < R; ++r) {
    int32_t acc[kPanel];
    _mm512_storeu_si512(acc, lo[r]);
    _mm512_storeu_si512(acc + 16, hi[r]);
    float* out = y + r * ldy;
    for (int j = 0; j < cols; ++j) {
      const float scale = row_scales[r] * scales[j], total = static_cast<float>(acc[j] - 128 * sums[j]);
      out[j] = bias != nullptr ? std::fma(scale, total, bias[j]) : scale * total;
    }
  }
}

template <int... R>
void tile_rows(int rows, std::integer_sequence<int, R...>, const uint32_t* a, int64_t quads, const int8_t* panel,
               const float* row_scales, const float* scales, const int32_t* sums, const float* bias, float* y,
               int64_t ldy, int cols) {
  ((rows == R + 1 ? tile<R + 1>(a, quads, panel, row_scales, scales, sums, bias, y, ldy, cols) : void()), ...);
}

void int8_linear_cpu(Backend&, const Int8LinearArgs& args) {
  const Int8Rows& w = *args.weight;
  const int64_t m = args.x.shape[0], n = w.rows, k = w.cols, quads = w.quads();
  if (m == 0 || n == 0) return;
  // The inputs' codes, + 128, as quads of unsigned bytes (zero codes past K: 128, against zero weights).
  std::vector<uint32_t> inputs(static_cast<size_t>(m * quads));
  std::vector<float> row_scales(static_cast<size_t>(m));
  std::vector<int8_t> codes(static_cast<size_t>(quads * 4), 0);
  for (int64_t i = 0; i < m; ++i) {
    row_scales[i] = quantize_row(args.x.as<const float>() + i * args.x.strides[0], k, codes.data());
    auto* bytes = reinterpret_cast<uint8_t*>(inputs.data() + i * quads);
    for (int64_t kk = 0; kk < quads * 4; ++kk) bytes[kk] = static_cast<uint8_t>(codes[kk] + 128);
  }
  std::vector<float> bias;
  if (args.bias.data != nullptr) {
    bias.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) bias[j] = args.bias.as<const float>()[j * args.bias.strides[0]];
  }
  const int64_t panels = (n + kPanel - 1) / kPanel;
  cpu::parallel_ranges(panels, m * n * k / cpu::kFlopsPerElement, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t col0 = p * kPanel;
      const int cols = static_cast<int>(std::min(kPanel, n - col0));
      const int8_t* panel = w.codes.data() + p * quads * kPanel * 4;
      for (int64_t i = 0; i < m; i += kRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kRows, m - i));
        tile_rows(rows, std::make_integer_sequence<int, kRows>{}, inputs.data() + i * quads, quads, panel,
                  row_scales.data() + i, w.scales.data() + col0, w.sums.data() + col0,
                  bias.empty() ? nullptr : bias.data() + col0, args.y.as<float>() + i * n + col0, n, cols);
      }
    }
  });
}

const RegisterKernel cpu_int8(int8_linear_table(), "cpu", &int8_linear_cpu);

}  // namespace

#endif

}  // namespace tg::kernels
