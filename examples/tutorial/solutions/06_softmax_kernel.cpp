// Chapter 6, exercise 1: give the chapter's one-kernel backend a second
// kernel, softmax, as plain loops (core/dispatch/primitives.h: row-wise over the last
// axis of contiguous (R, C) data; log = true for log-softmax), and run
// chapter 4's attention module, forward and backward, on it against cpu.
// Exits 1 if the kernel never ran or the weights, context or gradients
// differ from cpu's by more than 1e-5 relative (float32).
#include <fmt/format.h>
#include <tapegrad_kernels.h>  // tg::visit_float and tg::kernels, for writing ops

#include <algorithm>
#include <cmath>
#include <vector>

class LoopSoftmaxBackend : public tg::Backend {
 public:
  std::string_view name() const override { return "loop-softmax"; }
};

int64_t loop_softmax_calls = 0;

// y = e^(x - max) / Σ e^(x - max),  or for log: y = x - max - ln Σ e^(x - max)
void loop_softmax(tg::Backend&, const tg::primitives::SoftmaxArgs& args) {
  ++loop_softmax_calls;
  const tg::View &x = args.x, &out = args.out;
  const int64_t C = x.shape[x.shape.size() - 1], R = x.numel() / C;
  tg::visit_float(x.dtype, "softmax", [&]<typename T>() {
    for (int64_t r = 0; r < R; ++r) {
      const T* in = x.as<const T>() + r * C;
      T* y = out.as<T>() + r * C;
      const T max = *std::max_element(in, in + C);
      double sum = 0;
      for (int64_t c = 0; c < C; ++c) sum += std::exp(double(in[c] - max));
      for (int64_t c = 0; c < C; ++c)
        y[c] = args.log ? T(in[c] - max - std::log(sum)) : T(std::exp(double(in[c] - max)) / sum);
    }
  });
}

const tg::RegisterKernel loop_softmax_registered(tg::primitives::softmax_table(), "loop-softmax", &loop_softmax);

struct Result {
  std::vector<std::vector<float>> tensors;  // weights, context, then the gradients of query, keys, parameters
};

Result attend(tg::nn::AdditiveAttention& attention, const tg::Tensor& query, const tg::Tensor& keys,
              const tg::Tensor& mask, const tg::Tensor& probe) {
  attention.zero_grad();
  query.set_grad(tg::Tensor());
  keys.set_grad(tg::Tensor());
  const tg::nn::AttentionResult out = attention(query, keys, mask);
  tg::sum(out.context * probe).backward();
  Result r;
  for (const tg::Tensor& t : {out.weights, out.context, query.grad(), keys.grad()}) r.tensors.push_back(t.to_vector<float>());
  for (const tg::Tensor& p : attention.parameters()) r.tensors.push_back(p.grad().to_vector<float>());
  return r;
}

int main() {
  tg::Generator gen(61);
  const int64_t B = 8, S = 12, Kd = 16, Qd = 16, A = 16;
  tg::nn::AdditiveAttention attention(Qd, Kd, A, gen);
  const tg::Tensor keys = tg::randn({B, S, Kd}, {.requires_grad = true}, gen);
  const tg::Tensor query = tg::randn({B, Qd}, {.requires_grad = true}, gen);
  std::vector<int64_t> lengths(B);
  for (int64_t b = 0; b < B; ++b) lengths[b] = S - b;
  const tg::Tensor mask = tg::sequence_mask(tg::index_tensor(lengths), S);
  const tg::Tensor probe = tg::randn({B, Kd}, {}, gen);

  const Result on_cpu = attend(attention, query, keys, mask, probe);
  LoopSoftmaxBackend loops;
  Result on_loops;
  {
    tg::HostBackendScope use(loops);
    on_loops = attend(attention, query, keys, mask, probe);
  }
  double worst = 0;
  for (size_t i = 0; i < on_cpu.tensors.size(); ++i) {
    double diff = 0, scale = 0;
    for (size_t k = 0; k < on_cpu.tensors[i].size(); ++k) {
      diff = std::max(diff, double(std::abs(on_cpu.tensors[i][k] - on_loops.tensors[i][k])));
      scale = std::max(scale, double(std::abs(on_cpu.tensors[i][k])));
    }
    worst = std::max(worst, diff / scale);
  }
  fmt::print("attention on loop-softmax ({} softmax calls): largest relative difference from cpu {:.1e}\n",
             loop_softmax_calls, worst);
  return loop_softmax_calls > 0 && worst <= 1e-5 ? 0 : 1;
}
