// fit_line.cpp (the README's first program): learn y = 3x - 1 from noisy samples with gradient descent.
#include <fmt/format.h>
#include <tapegrad.h>

int main() {
  tg::Generator gen(0);
  const tg::Tensor x = tg::randn({64, 1}, {}, gen);
  const tg::Tensor y = x * 3.0 - 1.0 + tg::randn({64, 1}, {}, gen) * 0.1;

  tg::Tensor w = tg::zeros({1, 1}).requires_grad_();
  tg::Tensor b = tg::zeros({1}).requires_grad_();
  tg::optim::SGD sgd({w, b}, {.lr = 0.1});  // p -= 0.1 * dL/dp
  for (int step = 0; step < 200; ++step) {
    const tg::Tensor loss = tg::mse_loss(tg::matmul(x, w) + b, y);
    loss.backward();  // walks the tape in reverse; w.grad() and b.grad() fill in
    sgd.step();
    sgd.zero_grad();
    if (step % 50 == 0) fmt::print("step {:3d}  loss {:.4f}\n", step, loss.item());
  }
  fmt::print("w = {}\nb = {}\n", w, b);
}
