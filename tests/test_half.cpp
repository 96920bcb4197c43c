// core/types/half.h: float16 and bfloat16 storage. Every one of the 65,536 bit
// patterns of each converts to float32 and back unchanged (NaNs stay NaNs of
// their sign); float32 → 16 bits equals an independent reference (the nearest
// representable value found by comparing distances in double, ties to the
// even pattern) on every float16 midpoint and its neighbours, on a million
// random floats of every exponent, and on hand-picked values.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "core/types/half.h"

namespace {

using tg::bfloat16;
using tg::float16;

// The float16 nearest x (ties to even), by distances in double over the
// sorted finite values; ±inf past 65504 + half an ulp.
uint16_t nearest_float16(float x, const std::vector<double>& values) {
  const double a = std::fabs(static_cast<double>(x));
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (a >= 65520.0) return sign | 0x7c00;
  const size_t hi = static_cast<size_t>(std::lower_bound(values.begin(), values.end(), a) - values.begin());
  if (hi == 0) return sign;  // a is 0
  if (hi == values.size()) return static_cast<uint16_t>(sign | (values.size() - 1));  // in (65504, 65520)
  const size_t lo = hi - 1;
  const double below = a - values[lo], above = values[hi] - a;
  const size_t pick = below < above ? lo : above < below ? hi : (lo % 2 == 0 ? lo : hi);
  return static_cast<uint16_t>(sign | pick);
}

uint16_t nearest_bfloat16(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const uint16_t down = static_cast<uint16_t>(u >> 16), up = static_cast<uint16_t>(down + 1);
  const double a = static_cast<double>(x);
  const double lo = static_cast<double>(static_cast<float>(bfloat16::from_bits(down)));
  const double hi = static_cast<double>(static_cast<float>(bfloat16::from_bits(up)));  // may be ±inf: then far
  if (std::isinf(hi)) {  // the next pattern is ±inf: x rounds to it when at least halfway from the largest to 2^128
    const double halfway = std::ldexp(1.0, 128) - std::ldexp(1.0, 127 - 8);
    return std::fabs(a) >= halfway ? up : down;
  }
  const double below = std::fabs(a - lo), above = std::fabs(hi - a);
  return below < above ? down : above < below ? up : (down % 2 == 0 ? down : up);
}

// Every bit pattern of H converts to float32 and back unchanged; a NaN (all
// `exponent` bits set, some `fraction` bit set) stays a quiet NaN
// (`quiet_nan` bits set) of the same sign.
template <typename H>
void check_round_trip(uint16_t exponent, uint16_t fraction, uint16_t quiet_nan) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const uint16_t bits = static_cast<uint16_t>(b);
    const float f = static_cast<float>(H::from_bits(bits));
    const uint16_t back = H(f).bits;
    CAPTURE(bits);
    if ((bits & exponent) == exponent && (bits & fraction) != 0) {
      CHECK(std::isnan(f));
      CHECK((back & quiet_nan) == quiet_nan);
      CHECK((back & 0x8000) == (bits & 0x8000));
    } else {
      CHECK(back == bits);
    }
  }
}

}  // namespace

TEST_CASE("float16: every bit pattern converts to float32 and back unchanged") {
  check_round_trip<float16>(0x7c00, 0x3ff, 0x7e00);
  CHECK(static_cast<float>(float16::from_bits(0x0001)) == std::ldexp(1.0f, -24));
  CHECK(static_cast<float>(float16::from_bits(0x03ff)) == 1023 * std::ldexp(1.0f, -24));
  CHECK(static_cast<float>(float16::from_bits(0x7bff)) == 65504.0f);
  CHECK(static_cast<float>(float16::from_bits(0xfc00)) == -std::numeric_limits<float>::infinity());
}

TEST_CASE("float16: rounding equals the nearest value, ties to even, over midpoints and random floats") {
  std::vector<double> values;  // the finite non-negative float16 values, in bit order = increasing
  for (uint32_t b = 0; b <= 0x7bff; ++b) values.push_back(static_cast<double>(static_cast<float>(float16::from_bits(static_cast<uint16_t>(b)))));
  std::vector<float> probes;
  for (size_t i = 0; i + 1 < values.size(); i += 37) {  // midpoints (exact in float) and their neighbours
    const float mid = static_cast<float>((values[i] + values[i + 1]) / 2);
    for (const float p : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f), static_cast<float>(values[i])})
      probes.push_back(p), probes.push_back(-p);
  }
  for (const float p : {65504.0f, 65519.996f, 65520.0f, 1e9f, std::ldexp(1.0f, -25), std::ldexp(1.5f, -25),
                        std::ldexp(1.0f, -26), std::ldexp(1.0f, -14), std::ldexp(1023.5f, -24), 0.0f})
    probes.push_back(p), probes.push_back(-p);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> exponent(-27, 16.1), mantissa(1, 2);
  for (int i = 0; i < 20000; ++i) probes.push_back(static_cast<float>(std::ldexp(mantissa(rng), static_cast<int>(exponent(rng)))));
  for (const float p : probes) {
    CAPTURE(p);
    CHECK(float16(p).bits == nearest_float16(p, values));
  }
  // By hand: 1/3, ties at 1 + 2⁻¹¹ (down to even) and 1 + 3·2⁻¹¹ (up to even), the largest, overflow, subnormals.
  CHECK(float16(1.0f / 3).bits == 0x3555);
  CHECK(float16(1 + std::ldexp(1.0f, -11)).bits == 0x3c00);
  CHECK(float16(1 + 3 * std::ldexp(1.0f, -11)).bits == 0x3c02);
  CHECK(float16(65504.0f).bits == 0x7bff);
  CHECK(float16(65520.0f).bits == 0x7c00);
  CHECK(float16(-1e30f).bits == 0xfc00);
  CHECK(float16(std::ldexp(1.0f, -24)).bits == 0x0001);
  CHECK(float16(std::ldexp(1.0f, -25)).bits == 0x0000);  // halfway to 2⁻²⁴: ties to even, 0
  CHECK(float16(-0.0f).bits == 0x8000);
  CHECK(std::isnan(static_cast<float>(float16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST_CASE("bfloat16: every bit pattern round-trips; rounding to nearest, ties to even") {
  check_round_trip<bfloat16>(0x7f80, 0x7f, 0x7fc0);
  std::mt19937 rng(4);
  std::uniform_int_distribution<uint32_t> any(0, 0xffffffffu);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(any(rng));
    if (std::isnan(f)) continue;
    CAPTURE(f);
    CHECK(bfloat16(f).bits == nearest_bfloat16(f));
  }
  CHECK(bfloat16(1.0f / 3).bits == 0x3eab);
  CHECK(bfloat16(1 + std::ldexp(1.0f, -8)).bits == 0x3f80);      // a tie: down to even
  CHECK(bfloat16(1 + 3 * std::ldexp(1.0f, -8)).bits == 0x3f82);  // a tie: up to even
  CHECK(bfloat16(std::numeric_limits<float>::max()).bits == 0x7f80);  // rounds past the largest: inf
  CHECK(bfloat16(std::numeric_limits<float>::denorm_min()).bits == 0x0000);
  CHECK(std::isnan(static_cast<float>(bfloat16(-std::numeric_limits<float>::quiet_NaN()))));
}
