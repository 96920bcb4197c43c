#pragma once
// Float32 matrix products with a micro-kernel of our own, 512 bits wide.
// Where Debian's OpenBLAS 0.3.21 runs a 256-bit (Haswell) kernel on an
// AVX-512 processor (AMD's Zen 5) it is 1.4-1.7x faster on the translation
// models' shapes (bench/README.md); on Zen 4 against OpenBLAS's AVX-512
// core it is faster at a step's few rows and slower on weight gradients.
// sgemm_choice.h decides which products run here.
//
//   C (M, N) = A (M, K) @ B (K, N)  [+ C when accumulate]
//
// Any strides for A and B (A is read in place where its rows are runs of
// memory, else copied a tile at a time; B is copied into panels); C
// row-major with rows ldc apart. Each C element is the same sums over k in
// increasing order (blocks of 256 k), whatever the thread count and the
// number of rows, so the result does not depend on how the work is split.
// One row of A (M = 1) or one term (K = 1) against a B that is not kept
// packed is read in place, unpacked, with those same sums.
#include <cstdint>

#include "backends/cpu/packed_operand_cache.h"
#include "backends/cpu/sgemm_choice.h"  // which products run here, which on OpenBLAS

namespace tg::cpu {

// Columns of B in one packed panel (the register tile's two 16-float vectors).
constexpr int kPanelColumns = 32;

struct MatrixF32 {
  const float* data;
  int64_t row_stride, col_stride;
  // A parameter's storage id and version (View's), else 0: bfloat16 products
  // keep such a B packed between calls (backends/cpu/packed_operand_cache.h).
  uint64_t storage_id = 0, storage_version = 0;
};

void own_sgemm(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float* c, int64_t ldc, bool accumulate);

// bfloat16 products of float32 matrices where the processor has AVX512-BF16
// (and the build has the own kernels, as above):
// the same blocking and promises as own_sgemm, each input rounded to bfloat16
// (nearest, ties to even) as it is packed, products summed in float32 (with
// vdpbf16ps two k at a time, subnormal inputs and sums read as zero, the
// instruction's rule). A B that is a parameter's memory (b.storage_id set)
// is packed once per version and kept, so that the T steps of a recurrent
// layer convert W_hh once. What MatmulPrecision::bf16 runs on the cpu backend
// (bf16_products_built), except a batch of one-row or one-term products
// (bound by memory: own_sgemm's, cpu_backend.cpp); elsewhere it rounds copies
// of the inputs and multiplies them in float32, twice as slowly as float32 itself.
bool bf16_products_built();
// Which instructions own_bf16gemm multiplies with: vdpbf16ps (two bfloat16
// products per lane and instruction), float32 multiply-adds on inputs
// rounded to bfloat16 while packed (the same products, exact in float32), or
// AMX's tdpbf16ps (Intel's tiles: vdpbf16ps's pairs, 16 × 16 sums a tile).
// Chosen by the processor (dpbf16 on AMD; amx on Intel where the tiles run,
// else fma, as vdpbf16ps issues at half vfmadd231ps's rate there) or by
// TG_BF16_KERNEL=dpbf16|fma|amx; the tests set each in turn.
enum class Bf16Kernel { dpbf16, fma, amx };
// Whether the amx kernel runs here: the build, the processor (AMX-BF16) and
// Linux (the tile state granted to the process).
bool amx_tiles_run_here();
Bf16Kernel bf16_kernel();
void set_bf16_kernel(Bf16Kernel kernel);
void own_bf16gemm(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float* c, int64_t ldc, bool accumulate);

// Parts of a kept vdpbf16ps packing of B (key: packed_operand_cache.h, B (key.rows, key.cols) at key.data),
// packed again from B's current values into `words` (kept_packing_refresh.h): panels [first, last) (32
// columns each) through every block of k, or pair rows [first, last) (k = 2 · first on) of panels
// [panel_first, panel_last). bf16_packing_format() is those entries' key.format (-1 in a build without the
// kernels, where no entry has it).
int bf16_packing_format();
void repack_bf16_panels(const PackedKey& key, uint32_t* words, int64_t first, int64_t last);
void repack_bf16_pair_rows(const PackedKey& key, uint32_t* words, int64_t first, int64_t last, int64_t panel_first,
                           int64_t panel_last);

}  // namespace tg::cpu
