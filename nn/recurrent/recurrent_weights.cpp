#include "nn/recurrent/recurrent_weights.h"

#include <cmath>

#include "core/services/error.h"
#include "nn/init.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/transpose.h"

namespace tg::nn {

RecurrentWeights RecurrentWeights::make(const char* model, int64_t gates, int64_t input_size, int64_t hidden_size,
                                        LayerOptions options, Generator& gen) {
  if (input_size <= 0 || hidden_size <= 0)
    fail("{}: sizes must be positive, got input_size={} hidden_size={}", model, input_size, hidden_size);
  const int64_t rows = gates * hidden_size;
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  RecurrentWeights w;
  w.weight_ih = Tensor::empty({rows, input_size}, {options.dtype});   // (G·H, I)
  w.weight_hh = Tensor::empty({rows, hidden_size}, {options.dtype});  // (G·H, H)
  init::uniform_(w.weight_ih, -bound, bound, gen);
  init::uniform_(w.weight_hh, -bound, bound, gen);
  if (options.bias) {
    w.bias_ih = Tensor::empty({rows}, {options.dtype});  // (G·H,)
    w.bias_hh = Tensor::empty({rows}, {options.dtype});  // (G·H,)
    init::uniform_(w.bias_ih, -bound, bound, gen);
    init::uniform_(w.bias_hh, -bound, bound, gen);
  }
  return w;
}

Tensor RecurrentWeights::project_input(const Tensor& x) const {
  const Tensor gi = matmul(x, transpose(weight_ih, 0, 1));  // (..., I) @ (I, G·H) -> (..., G·H)
  return bias_ih.defined() ? gi + bias_ih : gi;             // (..., G·H) + (G·H,)
}

Tensor RecurrentWeights::weight_hh_t() const { return transpose(weight_hh, 0, 1); }

std::vector<std::pair<std::string, Tensor*>> RecurrentWeights::named(const std::string& suffix) {
  std::vector<std::pair<std::string, Tensor*>> out = {{"weight_ih" + suffix, &weight_ih},
                                                      {"weight_hh" + suffix, &weight_hh}};
  if (bias_ih.defined()) {
    out.emplace_back("bias_ih" + suffix, &bias_ih);
    out.emplace_back("bias_hh" + suffix, &bias_hh);
  }
  return out;
}

}  // namespace tg::nn
