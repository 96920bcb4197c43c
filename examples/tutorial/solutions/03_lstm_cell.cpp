// Chapter 3, exercise: one LSTM step from ops, checked against nn::LSTMCell
// to 1e-12 in float64. PyTorch's gate blocks, in the order i | f | g | o:
//   i = σ(x W_iiᵀ + b_ii + h W_hiᵀ + b_hi),  f = σ(... f ...),  g = tanh(... g ...),  o = σ(... o ...)
//   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
// Exits 1 if a difference exceeds 1e-12.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <vector>

tg::nn::LSTMState lstm_step_from_ops(const tg::nn::LSTMCell& cell, const tg::Tensor& x, const tg::nn::LSTMState& s) {
  const int64_t H = cell.hidden_size();
  auto gate = [&](int k) {  // block k of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh: (B, H)
    auto part = [&](const tg::Tensor& input, const tg::Tensor& weight, const tg::Tensor& bias) {
      return tg::matmul(input, tg::transpose(tg::slice(weight, 0, k * H, (k + 1) * H), 0, 1)) +
             tg::slice(bias, 0, k * H, (k + 1) * H);
    };
    return part(x, cell.weight_ih, cell.bias_ih) + part(s.h, cell.weight_hh, cell.bias_hh);
  };
  const tg::Tensor i = tg::sigmoid(gate(0)), f = tg::sigmoid(gate(1)), g = tg::tanh(gate(2)), o = tg::sigmoid(gate(3));
  tg::nn::LSTMState next;
  next.c = f * s.c + i * g;
  next.h = o * tg::tanh(next.c);
  return next;
}

double max_abs_diff(const tg::Tensor& a, const tg::Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0;
  for (size_t k = 0; k < x.size(); ++k) worst = std::max(worst, std::abs(x[k] - y[k]));
  return worst;
}

int main() {
  tg::Generator gen(5);
  const tg::TensorOptions f64{.dtype = tg::DType::f64};
  const tg::nn::LSTMCell cell(4, 6, {.dtype = tg::DType::f64}, gen);
  const tg::Tensor x = tg::randn({3, 4}, f64, gen);
  const tg::nn::LSTMState s{tg::randn({3, 6}, f64, gen), tg::randn({3, 6}, f64, gen)};
  const tg::nn::LSTMState mine = lstm_step_from_ops(cell, x, s), library = cell(x, s);
  const double diff = std::max(max_abs_diff(mine.h, library.h), max_abs_diff(mine.c, library.c));
  fmt::print("LSTM step from ops: largest difference from nn::LSTMCell {:.1e}\n", diff);
  return diff <= 1e-12 ? 0 : 1;
}
