#pragma once
// Finite-difference gradient check, for tapegrad's own ops and for users'
// functions. Compares the tape's gradients of  L = Σ f(inputs) ⊙ R  (R a fixed
// random tensor, so every output element matters) with central differences
//   dL/dx_i ≈ (L(x_i + ε) - L(x_i - ε)) / 2ε
// Use float64 inputs: float32 is too coarse for differences to agree.
#include <functional>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::string message;  // first mismatch: input, element, analytic vs numeric
};

// `inputs` must be float64 leaves with requires_grad set; they are perturbed
// in place and restored. Their .grad()s are left as they were (as PyTorch's
// gradcheck does): the analytic gradients are computed and dropped.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace tg
