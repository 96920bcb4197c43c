#pragma once
// The random stream a module draws its dropout masks from: seeded from
// tg::manual_seed's module streams (one per module, independent), or from an
// explicit seed. A training-mode
// forward is const (it changes no parameter) yet advances this stream: the
// one piece of state a forward changes, named by this type rather than hidden
// behind a bare `mutable`. Module::reseed sets it, so a training loop that
// reseeds before each step makes every mask a function of (seed, step).
#include <cstdint>

#include "core/services/generator.h"

namespace tg::nn {

class DropoutStream {
 public:
  // Without a seed: the next module stream of tg::manual_seed's (core/services/generator.h).
  DropoutStream() : gen_(next_stream_seed()) {}
  explicit DropoutStream(uint64_t seed) : gen_(seed) {}
  void seed_with(uint64_t seed) { gen_.seed_with(seed); }
  // The generator for the next masks; drawing from it advances the stream.
  Generator& advance() const { return gen_; }

 private:
  mutable Generator gen_;
};

}  // namespace tg::nn
