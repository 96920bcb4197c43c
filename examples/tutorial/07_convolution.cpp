// Chapter 7 of the tutorial (docs/tutorial/07-convolution.md): a 2-D
// convolution from im2col and one matmul, max pooling and batch norm from
// ops, each equal to the library's (tg::conv2d, tg::max_pool2d,
// nn::BatchNorm2d) in values and gradients (float64, 1e-12); the shapes and
// receptive fields of a small CNN; that CNN trained on a Fashion-MNIST subset
// (Debian's dataset-fashion-mnist, exit 77 without it), its first layer's
// filters and its confusion matrix drawn as SVG (filters.svg,
// confusion.svg). Exits 1 if a claim does not hold.
#include <fmt/format.h>
#include <tapegrad.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../fashion_mnist/idx.h"  // the gzipped IDX files (examples/fashion_mnist)
#include "io/text_file.h"
#include "plot/svg.h"
#include "tutorial_checks.h"

using tutorial::expect;
using tutorial::max_abs_diff;

namespace {

// [tutorial:geometry]
// A convolution's or pooling's geometry, as torch's arguments: one value for both axes.
struct Window {
  int64_t size = 3, stride = 1, padding = 0, dilation = 1;
  // OH = ⌊(H + 2p − d(K − 1) − 1) / s⌋ + 1: the last window must still fit in the padded input.
  int64_t out(int64_t in) const { return (in + 2 * padding - dilation * (size - 1) - 1) / stride + 1; }
};
// [/tutorial:geometry]

// [tutorial:im2col]
// x (B, C, H, W) with `p` zeros on each side of H and W: (B, C, H + 2p, W + 2p).
tg::Tensor pad_zeros(const tg::Tensor& x, int64_t p) {
  if (p == 0) return x;
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const tg::TensorOptions like{.dtype = x.dtype()};
  const tg::Tensor rows = tg::zeros({B, C, p, W}, like);
  const tg::Tensor taller = tg::concat({rows, x, rows}, 2);  // (B, C, H + 2p, W)
  const tg::Tensor columns = tg::zeros({B, C, H + 2 * p, p}, like);
  return tg::concat({columns, taller, columns}, 3);
}

// Every window of x as a column: x (B, C, H, W) -> (B, C·K·K, OH·OW).
// Row c·K·K + u·K + v holds x_pad[b, c, i·s + u·d, j·s + v·d] for every
// output position (i, j): one strided slice of x_pad per kernel offset (u, v).
tg::Tensor im2col(const tg::Tensor& x, const Window& w) {
  const int64_t B = x.size(0), C = x.size(1), OH = w.out(x.size(2)), OW = w.out(x.size(3));
  const tg::Tensor padded = pad_zeros(x, w.padding);
  std::vector<tg::Tensor> offsets;  // K·K tensors (B, C, OH, OW)
  for (int64_t u = 0; u < w.size; ++u)
    for (int64_t v = 0; v < w.size; ++v) {
      const int64_t top = u * w.dilation, left = v * w.dilation;
      const tg::Tensor rows = tg::slice(padded, 2, top, top + (OH - 1) * w.stride + 1, w.stride);
      offsets.push_back(tg::slice(rows, 3, left, left + (OW - 1) * w.stride + 1, w.stride));
    }
  // (B, C, K·K, OH, OW): for each channel its K·K offsets, in weight's (c, u, v) order.
  return tg::reshape(tg::stack(offsets, 2), {B, C * w.size * w.size, OH * OW});
}

// y = W (C_out, C·K·K) @ cols (B, C·K·K, OH·OW) + bias: one matmul, broadcast over the batch.
tg::Tensor conv2d_from_ops(const tg::Tensor& x, const tg::Tensor& weight, const tg::Tensor& bias, const Window& w) {
  const int64_t B = x.size(0), C_out = weight.size(0);
  const tg::Tensor columns = im2col(x, w);
  const tg::Tensor y = tg::matmul(tg::reshape(weight, {C_out, -1}), columns) + tg::reshape(bias, {1, C_out, 1});
  return tg::reshape(y, {B, C_out, w.out(x.size(2)), w.out(x.size(3))});
}
// [/tutorial:im2col]

// [tutorial:pool]
// Max pooling is the same windows with max in place of the matmul: the
// gradient goes to each window's (first) largest value, as tg::max_pool2d's.
tg::Tensor max_pool_from_ops(const tg::Tensor& x, int64_t k) {
  const Window w{.size = k, .stride = k};
  const int64_t B = x.size(0), C = x.size(1), OH = w.out(x.size(2)), OW = w.out(x.size(3));
  const tg::Tensor windows = tg::reshape(im2col(x, w), {B, C, k * k, OH * OW});
  return tg::reshape(tg::max(windows, 2).values, {B, C, OH, OW});
}
// [/tutorial:pool]

// [tutorial:batch_norm]
// Training: normalise each channel by the batch's mean and (biased) variance
// over (B, H, W), then scale and shift; the running statistics move towards
// the batch's (the variance's unbiased estimate), off the tape.
// Evaluation: the running statistics instead, so an example's output no
// longer depends on the rest of its batch.
tg::Tensor batch_norm_from_ops(const tg::Tensor& x, tg::nn::BatchNorm2d& bn, bool training) {
  const int64_t C = x.size(1);
  const double eps = bn.options().eps, momentum = bn.options().momentum;
  tg::Tensor mean, variance;
  if (training) {
    mean = tg::mean(x, {0, 2, 3}, true);                                // (1, C, 1, 1)
    variance = tg::mean((x - mean) * (x - mean), {0, 2, 3}, true);   // biased: divided by n
    const double n = static_cast<double>(x.numel() / C);
    tg::NoGrad off_the_tape;
    bn.running_mean.copy_(bn.running_mean * (1 - momentum) + tg::reshape(mean, {C}) * momentum);
    bn.running_var.copy_(bn.running_var * (1 - momentum) + tg::reshape(variance, {C}) * (momentum * n / (n - 1)));
  } else {
    mean = tg::reshape(bn.running_mean, {1, C, 1, 1});
    variance = tg::reshape(bn.running_var, {1, C, 1, 1});
  }
  const tg::Tensor normalised = (x - mean) / tg::sqrt(variance + eps);
  return normalised * tg::reshape(bn.weight, {1, C, 1, 1}) + tg::reshape(bn.bias, {1, C, 1, 1});
}
// [/tutorial:batch_norm]

// The gradients of Σ y ⊙ probe with respect to each of `leaves`, cleared after reading.
std::vector<tg::Tensor> gradients(const tg::Tensor& y, const tg::Tensor& probe, const std::vector<tg::Tensor>& leaves) {
  tg::sum(y * probe).backward();
  std::vector<tg::Tensor> grads;
  for (const tg::Tensor& leaf : leaves) {
    grads.push_back(leaf.grad());
    leaf.set_grad(tg::Tensor());
  }
  return grads;
}

void check_convolution(tg::Generator& gen) {
  const tg::TensorOptions leaf{.dtype = tg::DType::f64, .requires_grad = true};
  for (const Window& w : {Window{.size = 3, .padding = 1}, Window{.size = 3, .stride = 2, .padding = 1},
                          Window{.size = 2, .stride = 1, .padding = 0, .dilation = 2}}) {
    const tg::Tensor x = tg::randn({2, 3, 7, 6}, leaf, gen);
    const tg::Tensor weight = tg::randn({4, 3, w.size, w.size}, leaf, gen);
    const tg::Tensor bias = tg::randn({4}, leaf, gen);
    const tg::Tensor ours = conv2d_from_ops(x, weight, bias, w);
    const tg::Tensor library = tg::conv2d(x, weight, bias, w.stride, w.padding, w.dilation);
    const tg::Tensor probe = tg::randn(library.shape(), {.dtype = tg::DType::f64}, gen);
    const std::vector<tg::Tensor> g_ours = gradients(ours, probe, {x, weight, bias});
    const std::vector<tg::Tensor> g_library = gradients(library, probe, {x, weight, bias});
    double worst = max_abs_diff(ours, library);
    for (size_t i = 0; i < g_ours.size(); ++i) worst = std::max(worst, max_abs_diff(g_ours[i], g_library[i]));
    expect(ours.shape() == library.shape() && worst < 1e-12,
           fmt::format("conv2d from im2col and a matmul (K {}, stride {}, padding {}, dilation {}): {} -> {}, values "
                       "and gradients of x, weight and bias within {:.1e} of tg::conv2d",
                       w.size, w.stride, w.padding, w.dilation, x.shape().str(), ours.shape().str(), worst));
  }
}

void check_pooling(tg::Generator& gen) {
  const tg::Tensor x = tg::randn({2, 3, 6, 8}, {.dtype = tg::DType::f64, .requires_grad = true}, gen);
  const tg::Tensor ours = max_pool_from_ops(x, 2), library = tg::max_pool2d(x, 2);
  const tg::Tensor probe = tg::randn(library.shape(), {.dtype = tg::DType::f64}, gen);
  const double worst = std::max({max_abs_diff(ours, library), max_abs_diff(gradients(ours, probe, {x})[0],
                                                                          gradients(library, probe, {x})[0])});
  expect(worst == 0, fmt::format("max pooling from the same windows: {} -> {}, equal to tg::max_pool2d (values and "
                                 "gradient, largest difference {})",
                                 x.shape().str(), ours.shape().str(), worst));
}

void check_batch_norm(tg::Generator& gen) {
  tg::Tensor x = tg::randn({4, 3, 5, 5}, {.dtype = tg::DType::f64}, gen) * 2.0 + 1.0;  // mean 1, deviation 2
  x.requires_grad_();
  tg::nn::BatchNorm2d ours(3, {.dtype = tg::DType::f64}), library(3, {.dtype = tg::DType::f64});
  for (tg::nn::BatchNorm2d* bn : {&ours, &library}) {  // the same affine parameters, not the defaults 1 and 0
    tg::NoGrad no_grad;
    bn->weight.copy_(tg::from_vector(std::vector<double>{0.5, 1.5, -1.0}, {3}, {tg::DType::f64}));
    bn->bias.copy_(tg::from_vector(std::vector<double>{0.1, -0.2, 0.3}, {3}, {tg::DType::f64}));
  }
  const tg::Tensor probe = tg::randn(x.shape(), {.dtype = tg::DType::f64}, gen);
  library.train();
  const tg::Tensor mine = batch_norm_from_ops(x, ours, true), theirs = library(x);
  const std::vector<tg::Tensor> g_mine = gradients(mine, probe, {x, ours.weight, ours.bias});
  const std::vector<tg::Tensor> g_theirs = gradients(theirs, probe, {x, library.weight, library.bias});
  double worst = std::max(max_abs_diff(mine, theirs), max_abs_diff(ours.running_mean, library.running_mean));
  worst = std::max(worst, max_abs_diff(ours.running_var, library.running_var));
  for (size_t i = 0; i < g_mine.size(); ++i) worst = std::max(worst, max_abs_diff(g_mine[i], g_theirs[i]));
  expect(worst < 1e-12, fmt::format("batch norm in training mode: values, gradients of x, weight and bias, and the "
                                    "running statistics within {:.1e} of nn::BatchNorm2d",
                                    worst));
  library.eval();
  const tg::Tensor eval_mine = batch_norm_from_ops(x, ours, false), eval_theirs = library(x);
  expect(max_abs_diff(eval_mine, eval_theirs) < 1e-12,
         fmt::format("batch norm in evaluation mode (the running statistics): within {:.1e} of nn::BatchNorm2d",
                     max_abs_diff(eval_mine, eval_theirs)));
}

// [tutorial:cnn]
// The chapter's CNN: x (B, 1, 28, 28) -> logits (B, 10).
struct SmallCnn : tg::nn::Module {
  tg::nn::Conv2d conv1, conv2;
  tg::nn::BatchNorm2d bn1, bn2;
  tg::nn::Linear classify;

  explicit SmallCnn(tg::Generator& gen)
      : conv1(1, 8, 3, {.padding = 1, .bias = false}, gen),  // no bias: batch norm's shift takes its place
        conv2(8, 16, 3, {.padding = 1, .bias = false}, gen),
        bn1(8),
        bn2(16),
        classify(16 * 7 * 7, 10, gen) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    register_module("classify", classify);
  }

  // Each layer's output, in order, so that the shapes can be printed.
  std::vector<std::pair<std::string, tg::Tensor>> layers(const tg::Tensor& x) const {
    std::vector<std::pair<std::string, tg::Tensor>> out{{"input", x}};
    auto add = [&](const std::string& name, const tg::Tensor& y) { out.emplace_back(name, y); return y; };
    tg::Tensor h = add("conv1 3x3, pad 1", conv1(x));
    h = add("bn1, relu", tg::relu(bn1(h)));
    h = add("max pool 2", tg::max_pool2d(h, 2));
    h = add("conv2 3x3, pad 1", conv2(h));
    h = add("bn2, relu", tg::relu(bn2(h)));
    h = add("max pool 2", tg::max_pool2d(h, 2));
    h = add("flatten", tg::flatten(h, 1));
    add("linear", classify(h));
    return out;
  }
  tg::Tensor forward(const tg::Tensor& x) const { return layers(x).back().second; }
};
// [/tutorial:cnn]

void print_shapes() {
  tg::Generator gen(1);
  SmallCnn model(gen);
  tg::NoGrad no_grad;
  // [tutorial:receptive]
  // A unit's receptive field grows by (K − 1) · jump per layer, where jump
  // (the input pixels between neighbouring units) is the product of the strides so far.
  struct Growth {
    int64_t kernel, stride;
  };
  const std::vector<Growth> growth{{1, 1}, {3, 1}, {1, 1}, {2, 2}, {3, 1}, {1, 1}, {2, 2}, {1, 1}, {1, 1}};
  // [/tutorial:receptive]
  fmt::print("\n{:<18} {:<18} {:>9} {:>10}\n", "layer", "output", "values", "receptive");
  int64_t field = 1, jump = 1;
  const auto outputs = model.layers(tg::zeros({64, 1, 28, 28}));
  for (size_t i = 0; i < outputs.size(); ++i) {
    field += (growth[i].kernel - 1) * jump;
    jump *= growth[i].stride;
    const bool spatial = outputs[i].second.ndim() == 4;
    fmt::print("{:<18} {:<18} {:>9} {:>10}\n", outputs[i].first, outputs[i].second.shape().str(),
               outputs[i].second.numel() / 64, spatial ? fmt::format("{}x{}", field, field) : "all");
  }
  expect(outputs.back().second.shape() == tg::Shape{64, 10} && field == 10,
         fmt::format("the CNN maps (64, 1, 28, 28) to (64, 10); a unit after the second pooling sees {}x{} pixels",
                     field, field));
}

// ---- training on Fashion-MNIST ----

const std::vector<std::string> kClasses{"T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal",  "Shirt",   "Sneaker",  "Bag",   "Boot"};

struct Split {
  fashion_mnist::Images images;
  std::vector<uint8_t> labels;
};

// Examples [begin, end) of `order`: pixels to (x − 0.286) / 0.353, Fashion-MNIST's mean and deviation.
std::pair<tg::Tensor, tg::Tensor> batch(const Split& s, const std::vector<int64_t>& order, int64_t begin, int64_t end) {
  const int64_t B = end - begin, P = 28 * 28;
  std::vector<float> pixels(static_cast<size_t>(B * P));
  std::vector<int64_t> labels(static_cast<size_t>(B));
  for (int64_t i = 0; i < B; ++i) {
    const int64_t n = order[static_cast<size_t>(begin + i)];
    for (int64_t p = 0; p < P; ++p)
      pixels[static_cast<size_t>(i * P + p)] =
          (static_cast<float>(s.images.pixels[static_cast<size_t>(n * P + p)]) / 255.0f - 0.286f) / 0.353f;
    labels[static_cast<size_t>(i)] = s.labels[static_cast<size_t>(n)];
  }
  return {tg::from_vector(pixels, {B, 1, 28, 28}, {tg::DType::f32}), tg::index_tensor(labels)};
}

int train_on_fashion_mnist() {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    fmt::print("SKIP: Fashion-MNIST is not in {} (sudo apt-get install dataset-fashion-mnist)\n", dir);
    return 77;
  }
  tg::set_num_threads(2);
  const auto start = std::chrono::steady_clock::now();
  const Split train{fashion_mnist::read_images(dir + "/train-images-idx3-ubyte.gz"),
                    fashion_mnist::read_labels(dir + "/train-labels-idx1-ubyte.gz")};
  const Split test{fashion_mnist::read_images(dir + "/t10k-images-idx3-ubyte.gz"),
                   fashion_mnist::read_labels(dir + "/t10k-labels-idx1-ubyte.gz")};
  // [tutorial:train]
  // 12,000 training images (a fifth of the set), 2 epochs, batches of 64.
  const int64_t train_images = 12000, test_images = 2000, batch_size = 64, epochs = 2;
  tg::Generator gen(7);
  SmallCnn model(gen);
  tg::optim::Adam adam(model.parameters(), {.lr = 2e-3});
  std::vector<int64_t> order(static_cast<size_t>(train_images));
  for (int64_t i = 0; i < train_images; ++i) order[static_cast<size_t>(i)] = i;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (int64_t i = train_images - 1; i > 0; --i)  // a new order every epoch
      std::swap(order[static_cast<size_t>(i)], order[gen.below(static_cast<uint64_t>(i + 1))]);
    model.train();
    double loss_sum = 0;
    int64_t steps = 0;
    for (int64_t begin = 0; begin < train_images; begin += batch_size, ++steps) {
      const auto [x, labels] = batch(train, order, begin, std::min(begin + batch_size, train_images));
      const tg::Tensor loss = tg::cross_entropy(model.forward(x), labels);
      loss.backward();
      adam.step();
      adam.zero_grad();
      loss_sum += loss.item();
    }
    fmt::print("epoch {}: mean training loss {:.4f}\n", epoch + 1, loss_sum / static_cast<double>(steps));
  }
  // [/tutorial:train]

  // [tutorial:confusion]
  // The confusion matrix: row = the true class, column = the predicted one.
  model.eval();  // batch norm on its running statistics
  tg::NoGrad no_grad;
  std::vector<int64_t> test_order(static_cast<size_t>(test_images));
  for (int64_t i = 0; i < test_images; ++i) test_order[static_cast<size_t>(i)] = i;
  std::vector<double> confusion(100, 0.0);
  int64_t right = 0;
  for (int64_t begin = 0; begin < test_images; begin += 500) {
    const auto [x, labels] = batch(test, test_order, begin, std::min(begin + 500, test_images));
    const std::vector<int64_t> predicted = tg::argmax(model.forward(x), 1).to_vector<int64_t>();
    const std::vector<int64_t> truth = labels.to_vector<int64_t>();
    for (size_t i = 0; i < truth.size(); ++i) {
      confusion[static_cast<size_t>(truth[i] * 10 + predicted[i])] += 1;
      right += truth[i] == predicted[i];
    }
  }
  // [/tutorial:confusion]
  const double accuracy = static_cast<double>(right) / static_cast<double>(test_images);
  std::vector<double> shares(100);
  fmt::print("\n{:>9}", "true\\pred");
  for (int c = 0; c < 10; ++c) fmt::print(" {:>5.5}", kClasses[static_cast<size_t>(c)]);
  fmt::print("\n");
  int worst_class = 0;
  double worst_recall = 1;
  for (int t = 0; t < 10; ++t) {
    double row = 0;
    for (int p = 0; p < 10; ++p) row += confusion[static_cast<size_t>(t * 10 + p)];
    fmt::print("{:>9}", kClasses[static_cast<size_t>(t)]);
    for (int p = 0; p < 10; ++p) {
      shares[static_cast<size_t>(t * 10 + p)] = confusion[static_cast<size_t>(t * 10 + p)] / std::max(row, 1.0);
      fmt::print(" {:>5.0f}", confusion[static_cast<size_t>(t * 10 + p)]);
    }
    fmt::print("\n");
    const double recall = shares[static_cast<size_t>(t * 11)];
    if (recall < worst_recall) worst_recall = recall, worst_class = t;
  }
  tg::write_text_file("confusion.svg",
                      tg::plot::matrix_svg(kClasses, kClasses,
                                           tg::from_vector(shares, {10, 10}, {tg::DType::f64}),
                                           fmt::format("Confusion on {} test images (rows: true class)", test_images),
                                           "share"));
  // conv1.weight (8, 1, 3, 3) -> (8, 3, 3): each filter a 3x3 picture.
  tg::write_text_file("filters.svg", tg::plot::filter_grid_svg(tg::reshape(model.conv1.weight, {8, 3, 3}), 8,
                                                               "conv1's eight 3x3 filters after training"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("test accuracy {:.4f} on {} images; hardest class {} (recall {:.2f}); {:.1f} s; wrote confusion.svg and "
             "filters.svg\n",
             accuracy, test_images, kClasses[static_cast<size_t>(worst_class)], worst_recall, seconds);
  expect(accuracy > 0.80, fmt::format("the CNN classifies more than 80% of the test images right ({:.1f}%)",
                                      100 * accuracy));
  return 0;
}

}  // namespace

int main() {
  tg::Generator gen(3);
  check_convolution(gen);
  check_pooling(gen);
  check_batch_norm(gen);
  print_shapes();
  if (tutorial::failures > 0) return 1;
  const int trained = train_on_fashion_mnist();
  if (trained == 77) return 77;
  return tutorial::exit_status();
}
