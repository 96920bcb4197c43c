// Chapter 5, exercise 1: SGD with momentum written out as an Optimizer
// subclass, as the chapter's AdamByHand is, and checked against optim::SGD
// over 20 steps of a linear regression in float64:
//   b ← g on the first step, else μ·b + g;   p ← p − lr·b
// Exits 1 if the parameters differ by more than 1e-12.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

class SGDMomentumByHand : public tg::optim::Optimizer {
 public:
  SGDMomentumByHand(std::vector<std::pair<std::string, tg::Tensor>> params, double lr, double momentum)
      : Optimizer(std::move(params), lr, "SGDMomentumByHand"), momentum_(momentum) {}
  std::string type_name() const override { return "SGDMomentumByHand"; }

 protected:
  void update(const tg::Tensor& param, const tg::Tensor& grad, tg::optim::ParamState& state) override {
    const bool first = state.buffers.empty();
    if (first) state.buffers["momentum_buffer"] = tg::zeros(param.shape(), {.dtype = tg::DType::f64});
    const tg::Tensor g_contiguous = grad.contiguous();
    const double* g = g_contiguous.data<double>("SGDMomentumByHand");
    double* p = param.data<double>("SGDMomentumByHand");
    double* b = state.buffers["momentum_buffer"].data<double>("SGDMomentumByHand");
    for (int64_t i = 0; i < param.numel(); ++i) {
      b[i] = first ? g[i] : momentum_ * b[i] + g[i];
      p[i] -= lr() * b[i];
    }
  }
  std::vector<std::string> buffer_names() const override { return {"momentum_buffer"}; }

 private:
  double momentum_;
};

int main() {
  tg::Generator data_gen(51);
  const tg::TensorOptions f64{.dtype = tg::DType::f64};
  const tg::Tensor x = tg::randn({32, 4}, f64, data_gen), y = tg::randn({32, 2}, f64, data_gen);
  tg::Generator gen_a(52), gen_b(52);  // the same initial weights for both
  tg::nn::Linear with_library(4, 2, {.dtype = tg::DType::f64}, gen_a), with_hand(4, 2, {.dtype = tg::DType::f64}, gen_b);
  tg::optim::SGD library_sgd(with_library.named_parameters(), {.lr = 0.05, .momentum = 0.9});
  SGDMomentumByHand hand_sgd(with_hand.named_parameters(), 0.05, 0.9);
  for (int step = 0; step < 20; ++step) {
    for (auto [model, optimizer] : {std::pair<tg::nn::Linear*, tg::optim::Optimizer*>{&with_library, &library_sgd},
                                    {&with_hand, &hand_sgd}}) {
      tg::mse_loss(model->forward(x), y).backward();
      optimizer->step();
      optimizer->zero_grad();
    }
  }
  double diff = 0;
  for (size_t i = 0; i < with_library.parameters().size(); ++i) {
    const std::vector<double> a = with_library.parameters()[i].to_vector<double>();
    const std::vector<double> b = with_hand.parameters()[i].to_vector<double>();
    for (size_t k = 0; k < a.size(); ++k) diff = std::max(diff, std::abs(a[k] - b[k]));
  }
  fmt::print("after 20 steps, optim::SGD and SGDMomentumByHand differ by at most {:.1e}\n", diff);
  return diff <= 1e-12 ? 0 : 1;
}
