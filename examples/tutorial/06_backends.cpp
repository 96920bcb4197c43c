// Chapter 6 of the tutorial (docs/tutorial/06-backends.md): one training step
// of a small GRU classifier run on the `cpu` backend, on the plain-loop
// `reference` backend and on a backend of our own that replaces one kernel
// (matmul) and leaves the rest to cpu; then the op profiler's table of three
// training steps on cpu. float32, as training runs. Exits 1 if a backend's
// loss or gradients differ from cpu's by more than float32 rounding explains
// (relative 1e-5), our backend's kernel was never called, or the profile does
// not count one fused GRU step per time step.
#include <fmt/format.h>
#include <backends/reference/reference_backend.h>  // tg::reference_backend()
#include <tapegrad_kernels.h>  // tg::visit_float and tg::kernels, for writing ops

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

// [tutorial:backend]
// A backend is a name and where its memory lives (host memory here). What it
// computes is registered: every kernel is a table of bodies keyed by backend
// name (core/dispatch/kernel_table.h), and this one gives a body for one kernel,
// matmul, as three plain loops; for every other kernel it runs cpu's body.
class LoopMatmulBackend : public tg::Backend {
 public:
  std::string_view name() const override { return "loop-matmul"; }
};

int64_t loop_matmul_calls = 0;

// c (B, M, N) = a (B, M, K) @ b (B, K, N) + beta·c, beta 0 or 1. View = data
// pointer, dtype, shape and strides in elements: following the strides makes
// transposed and broadcast operands work without copies. The table has
// checked the shapes and dtypes before a body runs.
void loop_matmul(tg::Backend&, const tg::primitives::MatmulArgs& args) {
  ++loop_matmul_calls;
  const tg::View &a = args.a, &b = args.b, &c = args.c;
  const int64_t B = c.shape[0], M = c.shape[1], N = c.shape[2], K = a.shape[2];
  tg::visit_float(c.dtype, "matmul", [&]<typename T>() {
    const T *pa = a.as<const T>(), *pb = b.as<const T>();
    T* pc = c.as<T>();
    for (int64_t n = 0; n < B; ++n)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double sum = 0;
          for (int64_t k = 0; k < K; ++k)
            sum += double(pa[n * a.strides[0] + i * a.strides[1] + k * a.strides[2]]) *
                   pb[n * b.strides[0] + k * b.strides[1] + j * b.strides[2]];
          T& out = pc[n * c.strides[0] + i * c.strides[1] + j * c.strides[2]];
          out = T(args.beta == 0 ? sum : sum + args.beta * out);
        }
  });
}

// Registered while the program starts, under the backend's name.
const tg::RegisterKernel loop_matmul_registered(tg::primitives::matmul_table(), "loop-matmul", &loop_matmul);
// [/tutorial:backend]

// [tutorial:model]
// A sequence classifier: a GRU reads x (T, B, I); its state after each
// sequence's last step, (B, H), goes through a Linear to C class scores.
struct Classifier : tg::nn::Module {
  tg::nn::GRU gru;
  tg::nn::Linear out;
  Classifier(int64_t I, int64_t H, int64_t C, tg::Generator& gen) : gru(I, H, {}, gen), out(H, C, gen) {
    register_module("gru", gru);
    register_module("out", out);
  }
  tg::Tensor forward(const tg::Tensor& x, const tg::Tensor& lengths) const {
    return out(tg::select(gru(x, {}, lengths).h_n, 0, 0));  // h_n (1, B, H) -> (B, H) -> (B, C)
  }
};
// [/tutorial:model]

struct Batch {
  tg::Tensor x, lengths, labels;
};

struct StepResult {
  double loss = 0, seconds = 0;
  std::vector<tg::Tensor> grads;  // one per parameter
};

// [tutorial:run-step]
// Forward and backward of one batch on whichever host backend is selected.
StepResult forward_backward(Classifier& model, const Batch& batch) {
  model.zero_grad();
  const auto start = std::chrono::steady_clock::now();
  const tg::Tensor loss = tg::cross_entropy(model.forward(batch.x, batch.lengths), batch.labels);
  loss.backward();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  StepResult result{loss.item(), took.count(), {}};
  for (const tg::Tensor& p : model.parameters()) result.grads.push_back(p.grad().clone());
  return result;
}
// [/tutorial:run-step]

// The largest |a - b| over the loss and every gradient, each relative to the
// largest |b| of its tensor.
double relative_diff(const StepResult& a, const StepResult& b) {
  double worst = std::abs(a.loss - b.loss) / std::abs(b.loss);
  for (size_t i = 0; i < a.grads.size(); ++i) {
    const std::vector<float> x = a.grads[i].to_vector<float>(), y = b.grads[i].to_vector<float>();
    double diff = 0, scale = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      diff = std::max(diff, double(std::abs(x[k] - y[k])));
      scale = std::max(scale, double(std::abs(y[k])));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

int main() {
  const int64_t T = 20, B = 16, I = 32, H = 64, C = 10;
  tg::Generator gen(6);
  Classifier model(I, H, C, gen);
  std::vector<int64_t> lengths(B), labels(B);
  for (int64_t b = 0; b < B; ++b) {
    lengths[b] = T - b % 8;  // 13 to 20 steps: a padded batch
    labels[b] = static_cast<int64_t>(gen.below(C));
  }
  const Batch batch{tg::randn({T, B, I}, {}, gen), tg::index_tensor(lengths), tg::index_tensor(labels)};

  // [tutorial:compare]
  forward_backward(model, batch);  // a first run warms up the allocator, thread pool and OpenBLAS
  const StepResult on_cpu = forward_backward(model, batch);  // cpu: the default host backend
  StepResult on_reference, on_loops;
  {
    tg::HostBackendScope use(tg::reference_backend());  // every host kernel as plain loops
    on_reference = forward_backward(model, batch);
  }
  LoopMatmulBackend loop_backend;
  {
    tg::HostBackendScope use(loop_backend);  // our matmul, cpu for everything else
    on_loops = forward_backward(model, batch);
  }
  fmt::print("loss: cpu {:.7f}, reference {:.7f}, loop-matmul {:.7f}\n", on_cpu.loss, on_reference.loss,
             on_loops.loss);
  fmt::print("largest relative difference from cpu (loss and gradients): reference {:.1e}, loop-matmul {:.1e}\n",
             relative_diff(on_reference, on_cpu), relative_diff(on_loops, on_cpu));
  fmt::print("forward + backward: cpu {:.1f} ms, reference {:.1f} ms, loop-matmul {:.1f} ms ({} matmul calls)\n",
             on_cpu.seconds * 1e3, on_reference.seconds * 1e3, on_loops.seconds * 1e3, loop_matmul_calls);
  // [/tutorial:compare]

  // [tutorial:profile]
  // Three training steps (forward, backward, clipping, Adam) under the profiler.
  tg::optim::Adam adam(model.named_parameters(), {.lr = 1e-3});
  const int steps = 3;
  tg::Profiler profiler;  // from here on, this thread's ops are timed
  for (int step = 0; step < steps; ++step) {
    const tg::Tensor loss = tg::cross_entropy(model.forward(batch.x, batch.lengths), batch.labels);
    loss.backward();
    tg::optim::clip_grad_norm(model.parameters(), 1.0);
    adam.step();
    adam.zero_grad();
  }
  profiler.stop();
  fmt::print("{}", profiler.format_table());
  // [/tutorial:profile]

  int64_t gru_steps = 0;
  for (const tg::ProfileRow& row : profiler.report())
    if (row.op == "gru_gates") gru_steps = row.forward_calls;
  const bool agree = relative_diff(on_reference, on_cpu) < 1e-5 && relative_diff(on_loops, on_cpu) < 1e-5;
  if (!agree || loop_matmul_calls == 0 || gru_steps != steps * T) {
    fmt::print(stderr, "backends disagree, the loop matmul never ran, or the profile counted {} GRU steps, not {}\n",
               gru_steps, steps * T);
    return 1;
  }
  return 0;
}
