#pragma once
// Products with int8 weights for decoding (ops/int8_linear.h), as PyTorch's
// quantize_dynamic and CTranslate2 compute them:
//   weight W (N, K) quantized per row:  s_j = max_k |W_jk| / 127 (1 where that is 0),
//                                       q_jk = round(W_jk / s_j) in [-127, 127]
//   input x (M, K) quantized per row at run time, the same way:  t_i, p_ik
//   y_ij = t_i s_j Σ_k p_ik q_jk (+ b_j)        the sum exact, in int32; (t_i s_j) times the
//                                               sum, with b_j in the same rounding (fma), in every body
// x (M, K) float32 rows unit-strided, bias (N) float32 or absent (data null),
// y (M, N) float32 contiguous. K is at most 65,535, so that no sum leaves int32.
// The codes are kept in the layout the VNNI body reads (4 consecutive k of
// one column in 4 bytes, 32 columns a panel); the reference body reads them
// through code().
#include <cstdint>
#include <vector>

#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

struct Int8Rows {
  static constexpr int64_t kPanel = 32;  // columns of y per panel
  static constexpr int64_t kQuad = 4;    // k per 32-bit group
  int64_t rows = 0, cols = 0;            // N, K
  std::vector<int8_t> codes;    // [panel][k / 4][column in panel][k % 4], zero past N and K
  std::vector<float> scales;    // s_j (N)
  std::vector<int32_t> sums;    // Σ_k q_jk (N): the VNNI body's unsigned-input correction

  int64_t quads() const { return (cols + kQuad - 1) / kQuad; }
  // Where q_jk sits in `codes`.
  size_t index(int64_t j, int64_t k) const {
    return static_cast<size_t>(((j / kPanel) * quads() + k / kQuad) * kPanel * kQuad + (j % kPanel) * kQuad +
                               k % kQuad);
  }
  int8_t code(int64_t j, int64_t k) const { return codes[index(j, k)]; }
};

// W (N, K) float32 on the host, any strides, quantized per row. Throws on a
// non-finite weight (naming its row and column) or K above 65,535.
Int8Rows quantize_rows(const View& weight);

// Rows `ids` of a quantized W, in that order (each in [0, N); repeats
// allowed): the same codes, scales and sums as quantizing those rows of W.
// A vocabulary shortlist's output layer is this.
Int8Rows select_rows(const Int8Rows& weight, const std::vector<int64_t>& ids);

// x's row i quantized: its scale t_i, and p_i (K values) written to `codes`.
float quantize_row(const float* x, int64_t k, int8_t* codes);
// A row dequantized, w'_k = q_k · s in float32, quantizes again to the same s
// and q: its largest magnitude is fl(127 s), and fl(fl(127 s) / 127) = s for
// s = fl(m / 127), which tests/test_int8_checkpoint.cpp checks for every
// float m of 2⁻⁶⁷..2⁷²; then fl(q s) / s rounds back to q. So an int8
// checkpoint's (q, s) decode exactly as the weights they came from.

struct Int8LinearArgs {
  View x;                          // (M, K) float32
  const Int8Rows* weight = nullptr;
  View bias;                       // (N) float32, data null when absent
  View y;                          // (M, N) float32
};

KernelTable<Int8LinearArgs>& int8_linear_table();

inline void int8_linear(Backend& backend, const Int8LinearArgs& args) { int8_linear_table().run(backend, args); }

}  // namespace tg::kernels
