// xor_mlp: the framework in one screen. A 2-8-1 network learns XOR with Adam:
//   h = tanh(x W₁ᵀ + b₁)   x (4, 2) -> h (4, 8)
//   p = σ(h W₂ᵀ + b₂)      h (4, 8) -> p (4, 1)
//   loss = mean (p - y)²
// Exits 1 when a prediction lands on the wrong side of 0.5, so `meson test` catches regressions.
// `xor_mlp --device cuda` runs it on an NVIDIA GPU.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad.h>

#include <cmath>
#include <cstdio>
#include <string>

struct XorNet : tg::nn::Module {
  tg::nn::Linear hidden, out;
  explicit XorNet(tg::Generator& gen) : hidden(2, 8, {.dtype = tg::DType::f32}, gen), out(8, 1, {.dtype = tg::DType::f32}, gen) {
    register_module("hidden", hidden);
    register_module("out", out);
  }
  tg::Tensor forward(const tg::Tensor& x) const { return tg::sigmoid(out(tg::tanh(hidden(x)))); }
};

// Trains on `device`; true when every prediction is on the right side of 0.5.
bool learn_xor(int steps, double lr, uint64_t seed, int print_every, tg::Device device) {
  tg::Generator gen(seed);
  XorNet net(gen);  // built on the cpu, so the weights are the same on every device
  net.to(device);
  const tg::Tensor x = tg::tensor({0.f, 0.f, 0.f, 1.f, 1.f, 0.f, 1.f, 1.f}, {4, 2}).to(device);
  const tg::Tensor y = tg::tensor({0.f, 1.f, 1.f, 0.f}, {4, 1}).to(device);
  tg::optim::Adam adam(net.named_parameters(), {.lr = lr});
  for (int step = 1; step <= steps; ++step) {
    const tg::Tensor loss = tg::mse_loss(net.forward(x), y);
    loss.backward();
    adam.step();
    adam.zero_grad();
    if (step % print_every == 0 || step == steps) fmt::print("step {:4d}  loss {:.6f}\n", step, loss.item());
    std::fflush(stdout);
  }

  tg::NoGrad no_grad;
  const tg::Tensor p = net.forward(x);
  bool learned = true;
  for (int64_t i = 0; i < 4; ++i) {
    const bool right = std::abs(p.at({i, 0}) - y.at({i, 0})) < 0.5;
    learned = learned && right;
    fmt::print("{} xor {} -> {:.3f}  (want {}){}\n", x.at({i, 0}), x.at({i, 1}), p.at({i, 0}), y.at({i, 0}),
               right ? "" : "  WRONG");
  }
  return learned;
}

int main(int argc, char** argv) {
  CLI::App app{"A 2-8-1 MLP (Linear, tanh, sigmoid) learns XOR with Adam."};
  int steps = 500, print_every = 100;
  double lr = 0.05;
  uint64_t seed = 0;
  std::string device_name = "cpu";
  app.add_option("--steps", steps, "training steps")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::Range(1e-8, 10.0));
  app.add_option("--seed", seed, "seed of the initial weights")->capture_default_str();
  app.add_option("--print-every", print_every, "print the loss every N steps")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--device", device_name, "where the network runs: cpu, cuda or cuda:N (an NVIDIA GPU)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const bool learned = learn_xor(steps, lr, seed, print_every, tg::parse_device(device_name));
    if (!learned) fmt::print(stderr, "xor_mlp: the network did not learn XOR in {} steps\n", steps);
    return learned ? 0 : 1;
  } catch (const tg::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
