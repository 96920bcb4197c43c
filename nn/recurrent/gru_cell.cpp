#include "nn/recurrent/gru_cell.h"

#include "core/services/error.h"
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
    : RecurrentCell("GRUCell", 3, input_size, hidden_size, options, gen) {}

Tensor GRUCell::step(const Tensor& gi, const Tensor& h) const {
  return gru_step(gi, h, weight_hh_t(), bias_hh);  // W_hhᵀ: (H, 3H)
}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) const {
  check_input(x);
  check_state(h, x.size(0), "h");
  check_same_kind(x, h, "GRUCell");
  return step(input_projection(x), h);  // gi (B, 3H), h (B, H) -> h' (B, H)
}

}  // namespace tg::nn
