#pragma once
// Float32 matrix products with a micro-kernel of our own, for processors
// whose vector units OpenBLAS 0.3.21 does not use in full: it runs its
// Haswell (AVX2) kernel on AVX-512 machines such as AMD's Zen 4 and 5, where
// this kernel, 512 bits wide, is 1.4-1.7x faster on the translation models'
// shapes (bench/README.md).
//
//   C (M, N) = A (M, K) @ B (K, N)  [+ C when accumulate]
//
// Any strides for A and B (a transposed operand is read in place: A
// directly, B while it is copied into panels); C row-major with rows ldc
// apart. Each C element is one sum over k in increasing order, whatever the
// thread count, so the result does not depend on how the work is split.
#include <cstdint>

namespace tg::cpu {

// Whether float32 products use this kernel: where the processor has AVX-512
// (a native build for one, or a generic build by GCC run on one: the kernel
// is compiled for AVX-512 either way and run only where it can be) and
// OpenBLAS runs a narrower kernel here (its core is not SkylakeX, Cooperlake
// or SapphireRapids; OpenBLAS 0.3.21 runs Prescott's on an Intel model its
// table lacks). TG_SGEMM=own or TG_SGEMM=openblas in the environment decides
// instead (own only where the kernel can run); read once.
bool use_own_sgemm();

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
// (bf16_products_built); elsewhere it rounds copies of the inputs and
// multiplies them in float32, twice as slowly as float32 itself.
bool bf16_products_built();
// Which instructions own_bf16gemm multiplies with: vdpbf16ps (two bfloat16
// products per lane and instruction), or float32 multiply-adds on inputs
// rounded to bfloat16 while packed (the same products, exact in float32).
// Chosen by the processor (dpbf16 on AMD, fma on Intel, where vdpbf16ps
// issues at half vfmadd231ps's rate) or by TG_BF16_KERNEL=dpbf16|fma; the
// tests set each in turn.
enum class Bf16Kernel { dpbf16, fma };
Bf16Kernel bf16_kernel();
void set_bf16_kernel(Bf16Kernel kernel);
void own_bf16gemm(int64_t m, int64_t n, int64_t k, MatrixF32 a, MatrixF32 b, float* c, int64_t ldc, bool accumulate);

}  // namespace tg::cpu
