// Training steps of a small CNN (examples/fashion_mnist's network, dropout
// off) in float32: forward, backward and Adam on fixed random batches; the
// twin of bench/cnn_torch.py (bench/cnn.sh runs both and compares).
//
//   x (B, 1, 28, 28) -> Conv2d 1->32 3x3 pad 1 (no bias), BatchNorm2d, max pool 2, ReLU
//                    -> Conv2d 32->64 3x3 pad 1 (no bias), BatchNorm2d, max pool 2, ReLU
//                    -> flatten, Linear 3136->128, ReLU, Linear 128->10 -> cross entropy
//
// --init PATH writes the initial weights and the batches (safetensors:
// the parameter and buffer names of PyTorch's twin, "batch<i>.x", "batch<i>.labels")
// for the twin to read. Output, one line:
//   impl=tapegrad threads=2 batch=128 steps=20 ms_per_step=... img_per_s=... loss_first=... loss_last=...
//   product_gflop_per_step=... (the matrix products' FLOPs, for the share of the sgemm limit)
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "tapegrad.h"

namespace {

struct Net : tg::nn::Module {
  tg::nn::Conv2d conv1, conv2;
  tg::nn::BatchNorm2d bn1, bn2;
  tg::nn::Linear fc1, fc2;
  explicit Net(tg::Generator& gen)
      : conv1(1, 32, 3, {.padding = 1, .bias = false}, gen),
        conv2(32, 64, 3, {.padding = 1, .bias = false}, gen),
        bn1(32),
        bn2(64),
        fc1(64 * 7 * 7, 128, gen),
        fc2(128, 10, gen) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }
  tg::Tensor forward(const tg::Tensor& x) const {
    tg::Tensor h = tg::relu(tg::max_pool2d(bn1(conv1(x)), 2));
    h = tg::relu(tg::max_pool2d(bn2(conv2(h)), 2));
    return fc2(tg::relu(fc1(tg::flatten(h, 1))));
  }
};

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, steps = 20, warmup = 3, batches = 4;
  int64_t batch = 128;
  double lr = 1e-3;
  std::string init;
  bool profile = false;
  CLI::App app{"training steps of a small CNN (Fashion-MNIST's), float32"};
  app.add_option("--threads", threads)->capture_default_str();
  app.add_option("--batch", batch, "images per step")->capture_default_str();
  app.add_option("--steps", steps, "timed steps")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed steps first")->capture_default_str();
  app.add_option("--batches", batches, "distinct batches, used in turn")->capture_default_str();
  app.add_option("--lr", lr, "Adam's learning rate")->capture_default_str();
  app.add_option("--init", init, "write the initial weights and the batches here (safetensors) for the twin");
  app.add_flag("--profile", profile, "print tg::Profiler's table of the timed steps");
  CLI11_PARSE(app, argc, argv);
  tg::set_num_threads(threads);

  tg::Generator gen(1);
  Net model(gen);
  std::vector<tg::Tensor> xs, labels;
  for (int i = 0; i < batches; ++i) {
    xs.push_back(tg::randn({batch, 1, 28, 28}, {}, gen));
    std::vector<int64_t> l(static_cast<size_t>(batch));
    for (auto& v : l) v = static_cast<int64_t>(gen.below(10));
    labels.push_back(tg::index_tensor(l));
  }
  if (!init.empty()) {
    tg::NamedTensors named;
    for (const auto& [name, t] : model.state_dict()) named.emplace_back(name, t);
    for (int i = 0; i < batches; ++i) {
      named.emplace_back(fmt::format("batch{}.x", i), xs[static_cast<size_t>(i)]);
      named.emplace_back(fmt::format("batch{}.labels", i), labels[static_cast<size_t>(i)]);
    }
    tg::save_safetensors(init, named);
  }
  tg::optim::Adam adam(model.named_parameters(), {.lr = lr});
  double loss_first = 0, loss_last = 0;
  auto step = [&](int i) {
    const size_t b = static_cast<size_t>(i % batches);
    const tg::Tensor loss = tg::cross_entropy(model.forward(xs[b]), labels[b]);
    loss.backward();
    adam.step();
    adam.zero_grad();
    return loss.item();
  };
  for (int i = 0; i < warmup; ++i) {
    const double l = step(i);
    if (i == 0) loss_first = l;
  }
  std::unique_ptr<tg::Profiler> profiler = profile ? std::make_unique<tg::Profiler>() : nullptr;
  std::vector<double> ms;
  for (int i = 0; i < steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    loss_last = step(warmup + i);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (warmup == 0 && i == 0) loss_first = loss_last;
  }
  if (profiler) {
    profiler->stop();
    fmt::print("{}", profiler->format_table(25));
  }
  if (profile) {
    const tg::HostMemoryStats m = tg::host_memory_stats();
    fmt::print("host memory: peak in use {:.1f} MiB, cached {:.1f} MiB, {} system allocations, {:.1f} MiB trimmed\n",
               m.peak_in_use_bytes / 1048576.0, m.cached_bytes / 1048576.0, m.system_allocations,
               m.trimmed_bytes / 1048576.0);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  // Multiply-adds of the step's matrix products, ×2: conv1 forward and dweight (x needs no gradient),
  // conv2 forward, dweight and dx, and the two dense layers' three products each.
  const double B = static_cast<double>(batch);
  const double gflop = 2 * B * (2 * 32 * 9 * 784.0 + 3 * 64 * 288 * 196.0 + 3 * 3136 * 128.0 + 3 * 128 * 10.0) / 1e9;
  fmt::print("impl=tapegrad threads={} batch={} steps={} ms_per_step={:.2f} img_per_s={:.1f} loss_first={:.6f} "
             "loss_last={:.6f} product_gflop_per_step={:.3f}\n",
             threads, batch, steps, median, 1000.0 * B / median, loss_first, loss_last, gflop);
}
