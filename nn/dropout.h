#pragma once
#include <cstdint>

#include "nn/dropout_stream.h"
#include "nn/module.h"

namespace tg::nn {

// In training mode y = x ⊙ m / (1 - p), m ~ Bernoulli(1 - p) per element; in
// evaluation mode y = x. The masks come from the module's own stream
// (nn/dropout_stream.h), seeded at construction: from tg::manual_seed (each
// module its own stream) or from `seed`, so a run is reproducible and
// independent of other random draws.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Dropout(double p, uint64_t seed);
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string type_name() const override { return "Dropout"; }

  double p() const { return p_; }

 protected:
  void reseed_own(uint64_t seed) override { stream_.seed_with(seed); }

 private:
  double p_;
  DropoutStream stream_;  // advanced by every training-mode forward
};

}  // namespace tg::nn
