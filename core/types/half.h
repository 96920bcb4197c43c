#pragma once
// Sixteen-bit floating-point storage types for mixed precision: IEEE 754
// binary16 (float16: 1 sign, 5 exponent, 10 fraction bits) and bfloat16 (1,
// 8, 7: float32's exponent, its top 16 bits). They store; arithmetic happens
// in float32, to which both convert exactly. float32 → 16 bits rounds to
// nearest, ties to even (as IEEE casts, PyTorch and CUDA's __float2half_rn
// do); too large a value becomes ±inf (float16 above 65504 + half an ulp),
// NaN stays a quiet NaN of the same sign, float16 keeps subnormals (down to
// 2⁻²⁴).
#include <bit>
#include <cstdint>

namespace tg {

struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  explicit bfloat16(float value) : bits(from_float(value)) {}
  static bfloat16 from_bits(uint16_t b) {
    bfloat16 h;
    h.bits = b;
    return h;
  }
  explicit operator float() const { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

  static uint16_t from_float(float value) {
    const uint32_t u = std::bit_cast<uint32_t>(value);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // NaN, made quiet
    // Add half of the dropped part's weight, less one unless the kept part is odd: ties go to even.
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
};

struct float16 {
  uint16_t bits = 0;
  float16() = default;
  explicit float16(float value) : bits(from_float(value)) {}
  static float16 from_bits(uint16_t b) {
    float16 h;
    h.bits = b;
    return h;
  }
  explicit operator float() const { return to_float(bits); }

  static uint16_t from_float(float value) {
    const uint32_t u = std::bit_cast<uint32_t>(value);
    const uint32_t sign = (u >> 16) & 0x8000u, magnitude = u & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));  // NaN
    if (magnitude >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // ≥ 65520 (65504 + half an ulp): inf
    if (magnitude >= 0x38800000u) {  // normal in float16 (≥ 2⁻¹⁴): rebias the exponent by 127 − 15, round 13 bits away
      const uint32_t rebased = magnitude - 0x38000000u;
      return static_cast<uint16_t>(sign | ((rebased + 0x0fffu + ((rebased >> 13) & 1u)) >> 13));
    }
    if (magnitude < 0x33000000u) return static_cast<uint16_t>(sign);  // below 2⁻²⁵ (half the smallest subnormal): ±0
    // Subnormal: the value in units of 2⁻²⁴ is (1.f) · 2^(e − 127 + 24); shift the 24-bit significand right, rounding.
    const uint32_t exponent = magnitude >> 23, significand = (magnitude & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // 14 + (113 − e): from 2⁻¹⁵-scale down to 2⁻²⁴ units, in [14, 24]
    const uint32_t kept = significand >> shift, dropped = significand & ((1u << shift) - 1), half = 1u << (shift - 1);
    const uint32_t rounded = kept + ((dropped > half || (dropped == half && (kept & 1u))) ? 1u : 0u);
    return static_cast<uint16_t>(sign | rounded);  // rounding up to 0x400 lands on the smallest normal, as it should
  }

  static float to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, fraction = h & 0x3ffu;
    if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (fraction << 13));  // inf, NaN
    if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (fraction << 13));
    // Zero or subnormal: fraction · 2⁻²⁴, exact in float.
    const float value = static_cast<float>(fraction) * 0x1p-24f;
    return sign != 0 ? -value : value;
  }
};

}  // namespace tg
