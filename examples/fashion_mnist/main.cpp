// fashion_mnist: a small convolutional network learns Fashion-MNIST's ten
// kinds of clothing from 28x28 grey images (60,000 to train, 10,000 to test).
//
//   x (B, 1, 28, 28), normalised
//   Conv2d 1->32, 3x3, pad 1, BatchNorm2d, max pool 2, ReLU   -> (B, 32, 14, 14)
//   Conv2d 32->64, 3x3, pad 1, BatchNorm2d, max pool 2, ReLU  -> (B, 64, 7, 7)
//   flatten, Linear 3136->128, ReLU, Dropout, Linear 128->10   -> logits (B, 10)
//   loss = cross_entropy(logits, labels); Adam, cosine learning rate
//
// (max pool then ReLU equals ReLU then max pool, on a quarter of the values.)
// The data comes from Debian's dataset-fashion-mnist package (the four
// gzipped IDX files); without it the program says how to install it and
// exits with 77, which meson counts as a skipped test.
//   fashion_mnist --epochs 8 --threads 2
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

#include "idx.h"

namespace {

// ---- the data ----

struct Dataset {
  fashion_mnist::Images images;
  std::vector<uint8_t> labels;
  int64_t size() const { return images.count; }
};

Dataset load_split(const std::string& dir, const std::string& split) {
  Dataset d{fashion_mnist::read_images(dir + "/" + split + "-images-idx3-ubyte.gz"),
            fashion_mnist::read_labels(dir + "/" + split + "-labels-idx1-ubyte.gz")};
  if (d.images.rows != 28 || d.images.cols != 28)
    tg::fail("fashion_mnist: {}/{}-images-idx3-ubyte.gz holds {}x{} images, expected 28x28", dir, split, d.images.rows,
             d.images.cols);
  if (static_cast<int64_t>(d.labels.size()) != d.images.count)
    tg::fail("fashion_mnist: {}/{}-images-idx3-ubyte.gz holds {} images but {}/{}-labels-idx1-ubyte.gz {} labels", dir,
             split, d.images.count, dir, split, d.labels.size());
  return d;
}

// Fashion-MNIST's pixel mean and standard deviation (of the training set, in [0, 1]).
constexpr float kMean = 0.2860f, kStd = 0.3530f;

struct Batch {
  tg::Tensor x;       // (B, 1, 28, 28) float32, normalised
  tg::Tensor labels;  // (B) int64
};

// The examples order[begin, end), each flipped left-right with probability 1/2 when `flip`.
Batch make_batch(const Dataset& d, const std::vector<int64_t>& order, int64_t begin, int64_t end, bool flip,
                 tg::Generator& gen) {
  const int64_t B = end - begin, P = 28 * 28;
  std::vector<float> pixels(static_cast<size_t>(B * P));
  std::vector<int64_t> labels(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) {
    const int64_t n = order[static_cast<size_t>(begin + i)];
    const uint8_t* src = d.images.pixels.data() + n * P;
    const bool mirror = flip && gen.below(2) == 1;
    for (int64_t r = 0; r < 28; ++r)
      for (int64_t c = 0; c < 28; ++c)
        pixels[static_cast<size_t>(i * P + r * 28 + c)] =
            (static_cast<float>(src[r * 28 + (mirror ? 27 - c : c)]) / 255.0f - kMean) / kStd;
    labels[static_cast<size_t>(i)] = d.labels[static_cast<size_t>(n)];
  }
  return {tg::from_vector(pixels, {B, 1, 28, 28}, {tg::DType::f32}), tg::index_tensor(labels)};
}

// ---- the model ----

struct Net : tg::nn::Module {
  tg::nn::Conv2d conv1, conv2;
  tg::nn::BatchNorm2d bn1, bn2;
  tg::nn::Linear fc1, fc2;
  tg::nn::Dropout drop;

  Net(double dropout, tg::Generator& gen)
      : conv1(1, 32, 3, {.padding = 1, .bias = false}, gen),  // no bias: BatchNorm's shift replaces it
        conv2(32, 64, 3, {.padding = 1, .bias = false}, gen),
        bn1(32),
        bn2(64),
        fc1(64 * 7 * 7, 128, gen),
        fc2(128, 10, gen),
        drop(dropout, gen.next_u64()) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    register_module("fc1", fc1);
    register_module("drop", drop);
    register_module("fc2", fc2);
  }

  // x (B, 1, 28, 28) -> logits (B, 10)
  tg::Tensor forward(const tg::Tensor& x) const {
    tg::Tensor h = tg::relu(tg::max_pool2d(bn1(conv1(x)), 2));  // (B, 32, 14, 14)
    h = tg::relu(tg::max_pool2d(bn2(conv2(h)), 2));             // (B, 64, 7, 7)
    h = drop(tg::relu(fc1(tg::flatten(h, 1))));         // (B, 128)
    return fc2(h);
  }
};

// ---- training and testing ----

struct Options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 8;
  int64_t batch_size = 128;
  double lr = 2e-3;
  double dropout = 0.3;
  int threads = 2;
  uint64_t seed = 1;
  int64_t limit = 0;  // batches per epoch (and test batches), 0: all
  bool flip = true;
};

// One epoch; returns the mean training loss.
double train_epoch(Net& model, tg::optim::Adam& adam, const Dataset& train, const Options& o, int epoch,
                   int64_t steps_per_epoch, tg::Generator& gen) {
  model.train();
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  for (int64_t i = 0; i < train.size(); ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t i = train.size() - 1; i > 0; --i)  // Fisher-Yates
    std::swap(order[static_cast<size_t>(i)], order[gen.below(static_cast<uint64_t>(i + 1))]);
  const int64_t total_steps = steps_per_epoch * o.epochs;
  double loss_sum = 0;
  for (int64_t step = 0; step < steps_per_epoch; ++step) {
    const int64_t t = epoch * steps_per_epoch + step;  // cosine from lr down to lr/20
    adam.set_lr(o.lr * (0.05 + 0.95 * 0.5 * (1 + std::cos(std::numbers::pi * t / total_steps))));
    const int64_t begin = step * o.batch_size, end = std::min(begin + o.batch_size, train.size());
    const Batch batch = make_batch(train, order, begin, end, o.flip, gen);
    const tg::Tensor loss = tg::cross_entropy(model.forward(batch.x), batch.labels);
    loss.backward();
    adam.step();
    adam.zero_grad();
    loss_sum += loss.item();
  }
  return loss_sum / static_cast<double>(steps_per_epoch);
}

double test_accuracy(Net& model, const Dataset& test, int64_t limit_batches) {
  model.eval();
  tg::NoGrad no_grad;
  tg::Generator unused(0);
  std::vector<int64_t> order(static_cast<size_t>(test.size()));
  for (int64_t i = 0; i < test.size(); ++i) order[static_cast<size_t>(i)] = i;
  const int64_t batch = 1000;
  int64_t right = 0, seen = 0;
  for (int64_t begin = 0, b = 0; begin < test.size() && (limit_batches == 0 || b < limit_batches); begin += batch, ++b) {
    const Batch x = make_batch(test, order, begin, std::min(begin + batch, test.size()), false, unused);
    const std::vector<int64_t> predicted = tg::argmax(model.forward(x.x), 1).to_vector<int64_t>();
    const std::vector<int64_t> labels = x.labels.to_vector<int64_t>();
    for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
    seen += static_cast<int64_t>(labels.size());
  }
  return static_cast<double>(right) / static_cast<double>(seen);
}

bool have_data(const std::string& dir) {
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                        "t10k-labels-idx1-ubyte.gz"})
    if (!std::filesystem::exists(dir + "/" + f)) {
      fmt::print("SKIP: Fashion-MNIST not found: {}/{} is missing.\n"
                 "Install it with:  sudo apt-get install dataset-fashion-mnist   (or pass --data DIR)\n",
                 dir, f);
      return false;
    }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"fashion_mnist: a small CNN on Fashion-MNIST"};
  app.add_option("--data", o.data, "directory holding the four gzipped IDX files")->capture_default_str();
  app.add_option("--epochs", o.epochs, "passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch-size", o.batch_size, "examples per step")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", o.lr, "Adam's peak learning rate (cosine decay to 1/20 of it)")->capture_default_str();
  app.add_option("--dropout", o.dropout, "dropout before the last layer")->capture_default_str();
  app.add_option("--threads", o.threads, "threads for the kernels")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seed", o.seed, "seed of weights, order and flips")->capture_default_str();
  app.add_option("--limit", o.limit, "batches per epoch and test batches (0: all), for a quick check")
      ->capture_default_str();
  app.add_flag("--flip,!--no-flip", o.flip, "flip training images left-right at random")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!have_data(o.data)) return 77;
  tg::set_num_threads(o.threads);
  const auto start = std::chrono::steady_clock::now();
  Dataset train, test;
  try {
    train = load_split(o.data, "train");
    test = load_split(o.data, "t10k");
  } catch (const tg::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  tg::Generator gen(o.seed);
  Net model(o.dropout, gen);
  tg::optim::Adam adam(model.named_parameters(), {.lr = o.lr});
  const int64_t full = (train.size() + o.batch_size - 1) / o.batch_size;
  const int64_t steps = o.limit > 0 ? std::min(o.limit, full) : full;
  fmt::print("Fashion-MNIST: {} training and {} test images; {} parameters; {} steps of {} per epoch, {} thread(s)\n",
             train.size(), test.size(), model.parameter_count(), steps, o.batch_size, o.threads);
  double accuracy = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const double loss = train_epoch(model, adam, train, o, epoch, steps, gen);
    accuracy = test_accuracy(model, test, o.limit);
    const auto now = std::chrono::steady_clock::now();
    fmt::print("epoch {:2d}  loss {:.4f}  test accuracy {:.2f}%  {:.1f} s (total {:.1f} s)\n", epoch + 1, loss,
               100 * accuracy, std::chrono::duration<double>(now - epoch_start).count(),
               std::chrono::duration<double>(now - start).count());
    std::fflush(stdout);
  }
  if (!std::isfinite(accuracy) || accuracy <= 0) return 1;
  return 0;
}
