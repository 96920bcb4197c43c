// Chapter 6, exercise 3: the chapter's classifier step in float64 on cpu and
// on reference. In float32 they differed by about 2e-7 (relative): rounding,
// since OpenBLAS sums in another order and the cpu tanh and sigmoid are
// polynomials. In float64 both round 2^29 times more finely and the cpu
// backend's tanh and sigmoid are the standard library's, so the difference
// must shrink to about 1e-16. Exits 1 if it exceeds 1e-12.
#include <fmt/format.h>
#include <backends/reference/reference_backend.h>  // tg::reference_backend()
#include <tapegrad.h>

#include <algorithm>
#include <cmath>
#include <vector>

struct Classifier : tg::nn::Module {
  tg::nn::GRU gru;
  tg::nn::Linear out;
  Classifier(int64_t I, int64_t H, int64_t C, tg::Generator& gen)
      : gru(I, H, {}, tg::DType::f64, gen), out(H, C, {.dtype = tg::DType::f64}, gen) {
    register_module("gru", gru);
    register_module("out", out);
  }
  tg::Tensor forward(const tg::Tensor& x, const tg::Tensor& lengths) const {
    return out(tg::select(gru(x, {}, lengths).h_n, 0, 0));
  }
};

// The loss and every parameter's gradient, on the selected host backend.
std::vector<std::vector<double>> loss_and_grads(Classifier& model, const tg::Tensor& x, const tg::Tensor& lengths,
                                                const tg::Tensor& labels) {
  model.zero_grad();
  const tg::Tensor loss = tg::cross_entropy(model.forward(x, lengths), labels);
  loss.backward();
  std::vector<std::vector<double>> result{{loss.item()}};
  for (const tg::Tensor& p : model.parameters()) result.push_back(p.grad().to_vector<double>());
  return result;
}

int main() {
  const int64_t T = 20, B = 16, I = 32, H = 64, C = 10;
  tg::Generator gen(6);
  Classifier model(I, H, C, gen);
  std::vector<int64_t> lengths(B), labels(B);
  for (int64_t b = 0; b < B; ++b) {
    lengths[b] = T - b % 8;
    labels[b] = static_cast<int64_t>(gen.below(C));
  }
  const tg::Tensor x = tg::randn({T, B, I}, {.dtype = tg::DType::f64}, gen);
  const auto on_cpu = loss_and_grads(model, x, tg::index_tensor(lengths), tg::index_tensor(labels));
  std::vector<std::vector<double>> on_reference;
  {
    tg::HostBackendScope use(tg::reference_backend());
    on_reference = loss_and_grads(model, x, tg::index_tensor(lengths), tg::index_tensor(labels));
  }
  double worst = 0;  // relative to the largest magnitude of each tensor
  for (size_t i = 0; i < on_cpu.size(); ++i) {
    double diff = 0, scale = 0;
    for (size_t k = 0; k < on_cpu[i].size(); ++k) {
      diff = std::max(diff, std::abs(on_cpu[i][k] - on_reference[i][k]));
      scale = std::max(scale, std::abs(on_reference[i][k]));
    }
    worst = std::max(worst, diff / scale);
  }
  fmt::print("float64: largest relative difference of loss and gradients, cpu against reference {:.1e}\n", worst);
  return worst <= 1e-12 ? 0 : 1;
}
