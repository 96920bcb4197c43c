// Chapter 3 of the tutorial (docs/tutorial/03-a-gru-cell-from-ops.md): one
// GRU step built from matmul, sigmoid, tanh and mul, checked against
// nn::GRUCell; then the step run over a padded batch, with the mask carrying
// each sentence's state over its padding, checked against nn::GRU with
// lengths. float64 throughout; exits 1 if a difference exceeds 1e-12.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <vector>

// [tutorial:step]
// r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr),  z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
// n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),  h' = (1 - z) ⊙ n + z ⊙ h
// x (B, I), h (B, H); the cell's weight_ih (3H, I) and weight_hh (3H, H) hold
// the blocks of r, z and n one under the other, biases (3H,) likewise.
tg::Tensor gru_step_from_ops(const tg::nn::GRUCell& cell, const tg::Tensor& x, const tg::Tensor& h) {
  const int64_t H = cell.hidden_size();
  auto gate = [&](int k, const tg::Tensor& input, const tg::Tensor& weight, const tg::Tensor& bias) {
    const tg::Tensor w = tg::slice(weight, 0, k * H, (k + 1) * H);  // block k: (H, I) or (H, H)
    return tg::matmul(input, tg::transpose(w, 0, 1)) + tg::slice(bias, 0, k * H, (k + 1) * H);  // (B, H)
  };
  const tg::Tensor r = tg::sigmoid(gate(0, x, cell.weight_ih, cell.bias_ih) + gate(0, h, cell.weight_hh, cell.bias_hh));
  const tg::Tensor z = tg::sigmoid(gate(1, x, cell.weight_ih, cell.bias_ih) + gate(1, h, cell.weight_hh, cell.bias_hh));
  const tg::Tensor n = tg::tanh(gate(2, x, cell.weight_ih, cell.bias_ih) + r * gate(2, h, cell.weight_hh, cell.bias_hh));
  return (1.0 - z) * n + z * h;
}
// [/tutorial:step]

double max_abs_diff(const tg::Tensor& a, const tg::Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

int main() {
  tg::Generator gen(3);
  const int64_t B = 3, I = 4, H = 5, T = 6;
  const tg::TensorOptions f64{.dtype = tg::DType::f64};

  // [tutorial:check-step]
  const tg::nn::GRUCell cell(I, H, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor x = tg::randn({B, I}, f64, gen), h = tg::randn({B, H}, f64, gen);
  const double step_diff = max_abs_diff(gru_step_from_ops(cell, x, h), cell(x, h));
  fmt::print("one step: largest difference from nn::GRUCell {:.1e}\n", step_diff);
  // [/tutorial:check-step]

  // [tutorial:padded]
  // Three sentences of 6, 4 and 2 steps in one (T, B, I) batch; steps past a
  // sentence's length are padding. m_t (B, 1) is 1 where step t is real:
  //   h_t = m_t ⊙ step(x_t, h_{t-1}) + (1 - m_t) ⊙ h_{t-1}
  // so a sentence's state stops changing at its last real step, and the final
  // state of every sentence is its own, whatever the batch's longest.
  const std::vector<int64_t> lengths{6, 4, 2};
  const tg::Tensor xs = tg::randn({T, B, I}, f64, gen);
  const tg::Tensor valid = tg::sequence_mask(tg::index_tensor(lengths), T);  // (B, T) bool
  tg::Tensor state = tg::zeros({B, H}, f64);
  for (int64_t t = 0; t < T; ++t) {
    const tg::Tensor m = tg::unsqueeze(tg::select(valid, 1, t), 1).to(tg::DType::f64);  // (B, 1)
    state = m * gru_step_from_ops(cell, tg::select(xs, 0, t), state) + (1.0 - m) * state;
  }
  // [/tutorial:padded]

  // [tutorial:check-padded]
  // nn::GRU with the cell's weights and the lengths gives the same final states.
  tg::nn::GRU gru(I, H, {}, tg::DType::f64, gen);
  gru.weights(0).weight_ih.copy_(cell.weight_ih);
  gru.weights(0).weight_hh.copy_(cell.weight_hh);
  gru.weights(0).bias_ih.copy_(cell.bias_ih);
  gru.weights(0).bias_hh.copy_(cell.bias_hh);
  const tg::Tensor h_n = tg::select(gru(xs, {}, tg::index_tensor(lengths)).h_n, 0, 0);  // (B, H)
  const double padded_diff = max_abs_diff(state, h_n);
  fmt::print("padded batch: largest difference of the final states from nn::GRU {:.1e}\n", padded_diff);
  // [/tutorial:check-padded]

  if (step_diff > 1e-12 || padded_diff > 1e-12) {
    fmt::print(stderr, "the GRU built from ops differs from the library's by more than 1e-12\n");
    return 1;
  }
  return 0;
}
