#pragma once
// How float32 matrix products treat their inputs: the mixed-precision switch.
// Tensors, gradients, optimizer state, softmax and losses stay float32; only
// the products (forward and backward, every backend) round each input element
// to a narrower format and then multiply and accumulate in float32 or wider.
// This is what PyTorch's torch.set_float32_matmul_precision and autocast's
// products compute, and what cuBLAS's CUBLAS_COMPUTE_32F_FAST_{TF32,16BF,16F}
// run on tensor cores. float64 products are never rounded.
//
//   fp32  inputs as they are (default)
//   tf32  10 fraction bits, float32's exponent
//   bf16  7 fraction bits, float32's exponent (bfloat16)
//   fp16  10 fraction bits, 5 exponent bits (float16: above 65504 is inf,
//         below 2⁻²⁴ is 0, which is why it wants loss scaling)
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/types/device.h"
#include "core/types/half.h"

namespace tg {

enum class MatmulPrecision : uint8_t { fp32, tf32, bf16, fp16 };

std::string_view matmul_precision_name(MatmulPrecision p);
// "fp32", "tf32", "bf16" or "fp16"; anything else throws a tg::Error naming `what`.
MatmulPrecision parse_matmul_precision(std::string_view text, std::string_view what = "precision");

// Process-wide, as PyTorch's is; products started after the call use it.
void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();

// The precision training on `device` multiplies at when asked for `asked` (its backend's
// training_precision), and a line saying why where that differs from `asked` (else empty).
struct TrainingPrecision {
  MatmulPrecision precision;
  std::string note;
};
TrainingPrecision training_precision(MatmulPrecision asked, Device device);

// Sets a precision for a scope and restores the previous one.
class MatmulPrecisionGuard {
 public:
  explicit MatmulPrecisionGuard(MatmulPrecision p) : previous_(matmul_precision()) { set_matmul_precision(p); }
  ~MatmulPrecisionGuard() { set_matmul_precision(previous_); }
  MatmulPrecisionGuard(const MatmulPrecisionGuard&) = delete;
  MatmulPrecisionGuard& operator=(const MatmulPrecisionGuard&) = delete;

 private:
  MatmulPrecision previous_;
};

// x rounded to the format (nearest, ties to even), as a float32 again.
inline float round_to_tf32(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7fffffffu) >= 0x7f800000u) return x;  // inf and NaN stay
  return std::bit_cast<float>((u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu);
}
inline float round_to_precision(float x, MatmulPrecision p) {
  switch (p) {
    case MatmulPrecision::fp32: return x;
    case MatmulPrecision::tf32: return round_to_tf32(x);
    case MatmulPrecision::bf16: return static_cast<float>(bfloat16(x));
    case MatmulPrecision::fp16: return static_cast<float>(float16(x));
  }
  return x;
}

}  // namespace tg
