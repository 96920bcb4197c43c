#include "nn/recurrent/lstm_cell.h"

#include "core/services/error.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/mul.h"
#include "ops/sigmoid.h"
#include "ops/slice.h"
#include "ops/tanh.h"

namespace tg::nn {

LSTMState lstm_step(const Tensor& gi, const LSTMState& state, const Tensor& weight_hh_t, const Tensor& bias_hh) {
  check_defined(gi, "lstm_step", "gi");
  check_defined(state.h, "lstm_step", "h");
  check_defined(state.c, "lstm_step", "c");
  check_defined(weight_hh_t, "lstm_step", "weight_hh_t");
  if (weight_hh_t.ndim() != 2 || weight_hh_t.size(1) != 4 * weight_hh_t.size(0))
    fail("lstm_step: weight_hh_t must be W_hhᵀ of shape (H, 4H), got {}", weight_hh_t.shape().str());
  const int64_t H = weight_hh_t.size(0);
  if (state.h.ndim() != 2 || state.h.size(1) != H)
    fail("lstm_step: h must be (B, {}), got {}", H, state.h.shape().str());
  const int64_t batch = state.h.size(0);
  if (state.c.shape() != state.h.shape())
    fail("lstm_step: c must be (B, H) = ({}, {}) like h, got {}", batch, H, state.c.shape().str());
  if (gi.ndim() != 2 || gi.size(0) != batch || gi.size(1) != 4 * H)
    fail("lstm_step: gi must be (B, 4H) = ({}, {}), got {}", batch, 4 * H, gi.shape().str());

  Tensor gates = gi + matmul(state.h, weight_hh_t);  // (B, 4H) + (B, H) @ (H, 4H)
  if (bias_hh.defined()) gates = gates + bias_hh;    // (B, 4H) + (4H,)
  return lstm_gates(gates, state.c);
}

LSTMState lstm_gates(const Tensor& gates, const Tensor& c) {
  check_defined(gates, "lstm_gates", "gates");
  check_defined(c, "lstm_gates", "c");
  const int64_t H = c.ndim() == 2 ? c.size(1) : 0;
  if (c.ndim() != 2 || gates.ndim() != 2 || gates.size(0) != c.size(0) || gates.size(1) != 4 * H)
    fail("lstm_gates: gates must be (B, 4H) for c (B, H), got gates {} and c {}", gates.shape().str(),
         c.shape().str());
  const Tensor i = sigmoid(slice(gates, 1, 0, H));          // (B, H) input gate
  const Tensor f = sigmoid(slice(gates, 1, H, 2 * H));      // (B, H) forget gate
  const Tensor g = tanh(slice(gates, 1, 2 * H, 3 * H));     // (B, H) candidate cell
  const Tensor o = sigmoid(slice(gates, 1, 3 * H, 4 * H));  // (B, H) output gate
  LSTMState next;
  next.c = f * c + i * g;     // c' = f ⊙ c + i ⊙ g
  next.h = o * tanh(next.c);  // h' = o ⊙ tanh(c')
  return next;
}

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, LayerOptions options, Generator& gen)
    : RecurrentCell("LSTMCell", 4, input_size, hidden_size, options, gen) {}

LSTMState LSTMCell::step(const Tensor& gi, const LSTMState& state) const {
  return lstm_step(gi, state, weight_hh_t(), bias_hh);  // W_hhᵀ: (H, 4H)
}

LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) const {
  check_input(x);
  check_state(state.h, x.size(0), "h");
  check_state(state.c, x.size(0), "c");
  check_same_kind(x, state.h, "LSTMCell");
  check_same_kind(x, state.c, "LSTMCell");
  return step(input_projection(x), state);  // gi (B, 4H), h, c (B, H) -> h', c' (B, H)
}

}  // namespace tg::nn
