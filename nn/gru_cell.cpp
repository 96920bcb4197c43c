#include "nn/gru_cell.h"


#include "core/error.h"
#include "ops/add.h"
#include "ops/gru_gates.h"
#include "ops/matmul.h"

namespace tg::nn {

Tensor gru_step(const Tensor& gi, const Tensor& h, const Tensor& weight_hh_t, const Tensor& bias_hh) {
  check_defined(gi, "gru_step", "gi");
  check_defined(h, "gru_step", "h");
  check_defined(weight_hh_t, "gru_step", "weight_hh_t");
  if (weight_hh_t.ndim() != 2 || weight_hh_t.size(1) != 3 * weight_hh_t.size(0))
    fail("gru_step: weight_hh_t must be W_hhᵀ of shape (H, 3H), got {}", weight_hh_t.shape().str());
  const int64_t hidden = weight_hh_t.size(0);
  if (h.ndim() != 2 || h.size(1) != hidden)
    fail("gru_step: h must be (B, {}), got {}", hidden, h.shape().str());
  const int64_t batch = h.size(0);
  if (gi.ndim() != 2 || gi.size(0) != batch || gi.size(1) != 3 * hidden)
    fail("gru_step: gi must be (B, 3H) = ({}, {}), got {}", batch, 3 * hidden, gi.shape().str());

  Tensor gh = matmul(h, weight_hh_t);        // (B, H) @ (H, 3H) -> (B, 3H) = h W_hhᵀ
  if (bias_hh.defined()) gh = gh + bias_hh;  // (B, 3H) + (3H,)
  return gru_gates(gi, gh, h);               // (B, H): the gate arithmetic, fused (ops/gru_gates.h)
}

GRUCell::GRUCell(int64_t input_size, int64_t hidden_size, LayerOptions options, Generator& gen)
    : RecurrentWeights(make("GRUCell", 3, input_size, hidden_size, options, gen)),
      input_size_(input_size),
      hidden_size_(hidden_size) {
  for (const auto& [name, parameter] : named()) register_parameter(name, *parameter);
}

Tensor GRUCell::input_projection(const Tensor& x) const {
  check_defined(x, "GRUCell", "x");
  if (x.ndim() == 0 || x.size(-1) != input_size_)
    fail("GRUCell: input {} must end in input_size={}", x.shape().str(), input_size_);
  return project_input(x);  // (..., I) -> (..., 3H)
}

Tensor GRUCell::step(const Tensor& gi, const Tensor& h) const {
  return gru_step(gi, h, weight_hh_t(), bias_hh);  // W_hhᵀ: (H, 3H)
}

void GRUCell::check_hidden(const Tensor& h, int64_t batch, const char* what) const {
  check_defined(h, "GRUCell", what);
  if (h.ndim() != 2 || h.size(0) != batch || h.size(1) != hidden_size_)
    fail("GRUCell: {} must be (B, H) = ({}, {}), got {}", what, batch, hidden_size_, h.shape().str());
}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) const {
  check_defined(x, "GRUCell", "x");
  if (x.ndim() != 2 || x.size(1) != input_size_)
    fail("GRUCell: x must be (B, I) with I = input_size = {}, got {}", input_size_, x.shape().str());
  check_hidden(h, x.size(0), "h");
  check_same_kind(x, h, "GRUCell");
  return step(input_projection(x), h);  // gi (B, 3H), h (B, H) -> h' (B, H)
}

}  // namespace tg::nn
