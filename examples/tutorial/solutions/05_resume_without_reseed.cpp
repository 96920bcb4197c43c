// Chapter 5, exercise 2: what exact resume needs besides the checkpoint.
// A model with dropout trained 6 + 6 steps, stopped and resumed after 6 (a
// fresh model loaded from the checkpoint), against 12 straight steps; once
// with the masks reseeded from the step number before every step, once
// without. Without reseeding the resumed model's dropout stream starts from
// its construction seed, not where the straight run's had got to, so it
// draws other masks and the runs part. Exits 1 unless the reseeded run is
// bit for bit the straight one and the other is not.
#include <fmt/format.h>
#include <tapegrad.h>

#include <string>
#include <vector>

struct Net : tg::nn::Module {
  tg::nn::Linear hidden, out;
  tg::nn::Dropout dropout;
  explicit Net(tg::Generator& gen)
      : hidden(4, 16, {.dtype = tg::DType::f64}, gen), out(16, 1, {.dtype = tg::DType::f64}, gen), dropout(0.3) {
    register_module("hidden", hidden);
    register_module("out", out);
    register_module("dropout", dropout);
  }
  tg::Tensor forward(const tg::Tensor& x) const { return out(dropout(tg::tanh(hidden(x)))); }
};

// Steps [first, last); their losses.
std::vector<double> train(Net& net, tg::optim::Adam& adam, const tg::Tensor& x, const tg::Tensor& y, int first,
                          int last, bool reseed) {
  std::vector<double> losses;
  for (int step = first; step < last; ++step) {
    if (reseed) net.reseed(static_cast<uint64_t>(step));
    const tg::Tensor loss = tg::mse_loss(net.forward(x), y);
    loss.backward();
    adam.step();
    adam.zero_grad();
    losses.push_back(loss.item());
  }
  return losses;
}

// True when stopping after `stop` steps and resuming gives the straight run's losses.
bool resume_is_exact(const tg::Tensor& x, const tg::Tensor& y, bool reseed) {
  const int stop = 6, total = 12;
  tg::Generator gen_a(53), gen_b(53), gen_c(7);
  Net straight(gen_a);
  tg::optim::Adam straight_adam(straight.named_parameters(), {.lr = 1e-2});
  const std::vector<double> expected = train(straight, straight_adam, x, y, 0, total, reseed);

  const std::string path = "tutorial_05_resume_without_reseed.safetensors";
  {
    Net first(gen_b);
    tg::optim::Adam adam(first.named_parameters(), {.lr = 1e-2});
    train(first, adam, x, y, 0, stop, reseed);
    tg::train::save(first, adam, path);
  }
  Net resumed(gen_c);
  tg::optim::Adam resumed_adam(resumed.named_parameters(), {.lr = 1e-2});
  tg::train::load(resumed, resumed_adam, path);
  const std::vector<double> got = train(resumed, resumed_adam, x, y, stop, total, reseed);
  return got == std::vector<double>(expected.begin() + stop, expected.end());
}

int main() {
  tg::Generator data_gen(54);
  const tg::Tensor x = tg::randn({32, 4}, {.dtype = tg::DType::f64}, data_gen);
  const tg::Tensor y = tg::randn({32, 1}, {.dtype = tg::DType::f64}, data_gen);
  const bool with_reseed = resume_is_exact(x, y, true), without_reseed = resume_is_exact(x, y, false);
  fmt::print("resumed run equals the straight one: with reseeding {}, without {}\n", with_reseed ? "yes" : "no",
             without_reseed ? "yes" : "no");
  return with_reseed && !without_reseed ? 0 : 1;
}
