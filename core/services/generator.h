#pragma once
// Seedable random numbers (xoshiro256** seeded through splitmix64), with
// distributions written out here so results are identical on every platform
// and standard library.
//
// A Generator may be shared between threads: each draw takes its lock, and a
// tensor fill takes it once for all its numbers (lock()), so a fill is one
// unbroken run of the stream and costs one lock, not one per number.
#include <cstdint>
#include <mutex>
#include <string>

namespace tg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5EEDULL) { stream_.seed_with(seed); }
  // Copies are snapshots of the stream (checkpoint replays from one); the lock is not shared.
  Generator(const Generator& other) : stream_(other.snapshot()) {}
  Generator& operator=(const Generator& other);
  void seed_with(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal (Box-Muller; caches the second value).
  double normal();
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n);

  class Locked;
  // Holds the lock for a run of draws: `Generator::Locked draws = gen.lock();`.
  Locked lock();

  // The whole state as text, "xoshiro256** w0 w1 w2 w3 spare" (hex words; the
  // cached normal's bits or "-"), and back, as torch.Generator's get_state and
  // set_state: a checkpoint keeps it so a resumed run draws the same numbers.
  std::string get_state() const;
  void set_state(const std::string& state);  // throws naming what is wrong

 private:
  // The stream itself, unguarded.
  struct Stream {
    uint64_t state[4]{};
    bool has_spare_normal = false;
    double spare_normal = 0;

    void seed_with(uint64_t seed);
    uint64_t next_u64();
    double uniform();
    double normal();
    uint64_t below(uint64_t n);
  };
  Stream snapshot() const;

  mutable std::mutex mutex_;
  Stream stream_;
};

// Draws while holding the generator's lock. Until it is gone, the generator's
// own methods would wait for that lock forever: draw through this instead.
class Generator::Locked {
 public:
  uint64_t next_u64() { return stream_.next_u64(); }
  double uniform() { return stream_.uniform(); }
  double normal() { return stream_.normal(); }
  uint64_t below(uint64_t n) { return stream_.below(n); }

 private:
  friend class Generator;
  Locked(std::mutex& mutex, Stream& stream) : lock_(mutex), stream_(stream) {}
  std::lock_guard<std::mutex> lock_;
  Stream& stream_;
};

// The generator used when none is passed: one per process, shared by every
// thread (PyTorch's rule). After manual_seed(s), what any thread draws from it
// follows s, in the order the threads take its lock; a thread that needs a
// reproducible stream of its own, whatever other threads do, builds its own Generator.
Generator& default_generator();
// Seeds the default generator and restarts the module streams (below).
void manual_seed(uint64_t seed);
// A seed for a module's own random stream (a Dropout's masks): the k-th
// stream asked for since manual_seed(s) (or since start, s = 0x5EED) gets a
// seed that is a function of (s, k) alone. Streams are then independent of
// each other, the same in every run that seeds and builds its model alike,
// and nothing is drawn from the default generator, so asking for one moves
// no parameter's initial value.
uint64_t next_stream_seed();

}  // namespace tg
