#pragma once
// Seedable random numbers (xoshiro256** seeded through splitmix64), with
// distributions written out here so results are identical on every platform
// and standard library.
#include <cstdint>

namespace tg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5EEDULL) { seed_with(seed); }
  void seed_with(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal (Box-Muller; caches the second value).
  double normal();
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n);

 private:
  uint64_t state_[4]{};
  bool has_spare_normal_ = false;
  double spare_normal_ = 0;
};

// The generator used when none is passed.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace tg
