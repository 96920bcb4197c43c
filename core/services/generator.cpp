#include "core/services/generator.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <numbers>
#include <sstream>

#include "core/services/error.h"

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

namespace {
struct StreamSeeds {
  std::mutex mutex;
  uint64_t base = 0x5EEDULL;  // the last manual_seed
  uint64_t handed_out = 0;    // streams since then
};
StreamSeeds& stream_seeds() {
  static StreamSeeds seeds;
  return seeds;
}
}  // namespace

void manual_seed(uint64_t seed) {
  default_generator().seed_with(seed);
  StreamSeeds& seeds = stream_seeds();
  const std::lock_guard guard(seeds.mutex);
  seeds.base = seed;
  seeds.handed_out = 0;
}

uint64_t next_stream_seed() {
  StreamSeeds& seeds = stream_seeds();
  const std::lock_guard guard(seeds.mutex);
  uint64_t mixed = seeds.base ^ (0x9E3779B97F4A7C15ULL * ++seeds.handed_out);
  splitmix64(mixed);
  return splitmix64(mixed);  // two rounds: neighbouring k give unrelated seeds
}

std::string Generator::get_state() const {
  const Stream s = snapshot();
  uint64_t spare = 0;
  std::memcpy(&spare, &s.spare_normal, sizeof spare);
  return fmt::format("xoshiro256** {:016x} {:016x} {:016x} {:016x} {}", s.state[0], s.state[1], s.state[2], s.state[3],
                     s.has_spare_normal ? fmt::format("{:016x}", spare) : std::string("-"));
}

void Generator::set_state(const std::string& text) {
  std::istringstream in(text);
  std::string name, words[5];
  in >> name >> words[0] >> words[1] >> words[2] >> words[3] >> words[4];
  auto bad = [&](const std::string& why) {
    fail("Generator::set_state: '{}' is not a generator state ({}); expected 'xoshiro256** w0 w1 w2 w3 spare', as "
         "get_state writes it",
         text, why);
  };
  if (name != "xoshiro256**") bad("it names no xoshiro256** stream");
  std::string rest;
  if (words[4].empty() || (in >> rest)) bad("expected 6 fields");
  Stream s;
  auto hex = [&](const std::string& w) {
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v, 16);
    if (ec != std::errc() || end != w.data() + w.size() || w.size() != 16) bad("'" + w + "' is not 16 hex digits");
    return v;
  };
  for (int i = 0; i < 4; ++i) s.state[i] = hex(words[i]);
  if ((s.state[0] | s.state[1] | s.state[2] | s.state[3]) == 0) bad("an all-zero state never leaves zero");
  s.has_spare_normal = words[4] != "-";
  if (s.has_spare_normal) {
    const uint64_t bits = hex(words[4]);
    std::memcpy(&s.spare_normal, &bits, sizeof bits);
  }
  const std::lock_guard guard(mutex_);
  stream_ = s;
}

}  // namespace tg
