#include "core/generator.h"

#include <cmath>
#include <numbers>

namespace tg {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Generator::Stream::seed_with(uint64_t seed) {
  for (uint64_t& s : state) s = splitmix64(seed);
  has_spare_normal = false;
}

uint64_t Generator::Stream::next_u64() {
  const uint64_t result = rotl(state[1] * 5, 7) * 9;
  const uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

double Generator::Stream::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::Stream::normal() {
  if (has_spare_normal) {
    has_spare_normal = false;
    return spare_normal;
  }
  // Box-Muller: two uniforms give two independent normals.
  const double u1 = 1.0 - uniform();  // (0, 1], keeps log finite
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_normal = radius * std::sin(angle);
  has_spare_normal = true;
  return radius * std::cos(angle);
}

uint64_t Generator::Stream::below(uint64_t n) {
  // Rejection sampling avoids modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return x % n;
}

Generator::Stream Generator::snapshot() const {
  const std::lock_guard guard(mutex_);
  return stream_;
}

Generator& Generator::operator=(const Generator& other) {
  if (this == &other) return *this;
  const Stream copy = other.snapshot();  // one lock at a time: two generators copied both ways cannot deadlock
  const std::lock_guard guard(mutex_);
  stream_ = copy;
  return *this;
}

void Generator::seed_with(uint64_t seed) {
  const std::lock_guard guard(mutex_);
  stream_.seed_with(seed);
}
uint64_t Generator::next_u64() { return lock().next_u64(); }
double Generator::uniform() { return lock().uniform(); }
double Generator::normal() { return lock().normal(); }
uint64_t Generator::below(uint64_t n) { return lock().below(n); }

Generator::Locked Generator::lock() { return Locked(mutex_, stream_); }

Generator& default_generator() {
  static Generator generator;  // one for the process, not one per thread: manual_seed must reach every thread
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().seed_with(seed); }

}  // namespace tg
