#pragma once
// Counter-based random numbers: draw i of the stream with key k is a pure
// function of (k, i), so every backend, thread and GPU block computes the same
// values whatever order it visits the elements in. The function is
// SplitMix64's output at step i + 1 of the stream seeded with k (Steele,
// Lea and Flood 2014; it passes BigCrush), one multiply-xorshift hash of
// k + (i + 1)·γ, γ = 2⁶⁴/φ.
#include <cstdint>

#include "core/dispatch/elementwise.h"  // TG_HOST_DEVICE

namespace tg::random_bits {

TG_HOST_DEVICE uint64_t bits(uint64_t key, uint64_t i) {
  uint64_t z = key + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits.
TG_HOST_DEVICE double uniform(uint64_t key, uint64_t i) { return static_cast<double>(bits(key, i) >> 11) * 0x1.0p-53; }

// Dropout's per-element factor: 1 / (1 - p) where the draw keeps the element
// (u < 1 - p), else 0.
template <typename T>
TG_HOST_DEVICE T dropout_scale(uint64_t key, uint64_t i, double keep, T scale) {
  return uniform(key, i) < keep ? scale : T(0);
}

}  // namespace tg::random_bits
