// The PyTorch conveniences, used the way a PyTorch user writes them: one small
// program per habit, each checked against the long spelling or a value worked
// out independently. If a later change takes a convenience away, this stops compiling.
//   - methods: x.sum(), x.mean({1}), x.masked_fill(m, v), x.transpose(0, 1), ...
//   - tg::sum(x, 1) with an int axis; whole-tensor var/std/max/min
//   - type promotion: float32 with float64, int64 and bool
//   - a Transformer encoder classifier from the blocks (padding mask true = ignore),
//     sinusoidal positions, AdamW parameter groups, clipping; its loss falls
//   - ModuleListOf<Layer> loops without casts; the library's CTC greedy decoder;
//     a generator's state kept by train::save and found again by train::load
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using tg::DType;
using tg::Shape;
using tg::Tensor;

TEST_CASE("tensor methods are the free functions, values and gradients") {
  tg::Generator gen(3);
  const Tensor x = tg::randn({2, 3, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor m = tg::gt(tg::randn({2, 3, 4}, {.dtype = DType::f64}, gen), 0.0);
  auto same = [](const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    CHECK(a.to_vector<double>() == b.to_vector<double>());
  };
  same(x.sum(), tg::sum(x));
  same(x.sum(1), tg::sum(x, {1}));
  same(x.sum({0, 2}, true), tg::sum(x, {0, 2}, true));
  same(x.mean({1}), tg::mean(x, {1}));
  same(x.mean(-1, true), tg::mean(x, {-1}, true));
  same(x.max(), tg::max(x));
  same(x.min(), tg::min(x));
  same(x.var(), tg::var(x));
  same(x.std(), tg::std(x));
  same(x.argmax(2), tg::argmax(x, 2));
  same(x.transpose(0, 1), tg::transpose(x, 0, 1));
  same(x.permute({2, 0, 1}), tg::permute(x, {2, 0, 1}));
  same(x.reshape(Shape{6, 4}), tg::reshape(x, Shape{6, 4}));
  same(x.unsqueeze(1).squeeze(1), x);
  same(x.flatten(1), tg::reshape(x, Shape{2, 12}));
  same(x.exp().log(), tg::log(tg::exp(x)));
  same(x.tanh(), tg::tanh(x));
  same(x.sigmoid(), tg::sigmoid(x));
  same(x.relu(), tg::relu(x));
  same(x.abs().sqrt(), tg::sqrt(tg::abs(x)));
  same(x.neg(), -x);
  same(x.pow(2.0), x * x);
  same(x.softmax(-1), tg::softmax(x, -1));
  same(x.log_softmax(-1), tg::log_softmax(x, -1));
  same(x.masked_fill(m, -1.0), tg::masked_fill(x, m, -1.0));
  same(x.matmul(x.transpose(1, 2)), tg::matmul(x, tg::transpose(x, 1, 2)));
  // Chained the PyTorch way, and differentiated: d/dx sum(relu(x)²) = 2 relu(x).
  x.relu().pow(2.0).sum().backward();
  same(x.grad(), x.relu() * 2.0);
}

TEST_CASE("type promotion: float32 with float64, int64 and bool, as torch.result_type") {
  const Tensor f32 = tg::ones({3});
  const Tensor f64 = tg::full({3}, 0.5, {DType::f64});
  const Tensor i64 = tg::index_tensor({1, 2, 3});
  const Tensor flags = tg::gt(tg::arange(3), 0.5);  // bool: false, true, true
  CHECK((f32 + f64).dtype() == DType::f64);
  CHECK((f32 + f64).to_vector<double>() == std::vector<double>{1.5, 1.5, 1.5});
  CHECK((i64 * f32).dtype() == DType::f32);
  CHECK((i64 * f32).to_vector<float>() == std::vector<float>{1, 2, 3});
  CHECK((f32 * flags).dtype() == DType::f32);
  CHECK((f32 * flags).to_vector<float>() == std::vector<float>{0, 1, 1});
  CHECK(tg::arange(5).dtype() == DType::i64);  // as torch.arange (tests/test_dtype_rules.cpp has every rule)
}

namespace {

// A Transformer encoder classifier as a PyTorch user writes it.
struct Classifier : tg::nn::Module {
  tg::nn::Embedding embed;
  tg::nn::TransformerEncoder encoder;
  tg::nn::Linear head;
  Classifier(int64_t vocab, int64_t d, tg::Generator& gen)
      : embed(vocab, d, gen),
        encoder(d, 2, 2, {.dim_feedforward = 2 * d, .dropout = 0.0, .batch_first = true}, false, gen),
        head(d, 2, gen) {
    register_module("embed", embed);
    register_module("encoder", encoder);
    register_module("head", head);
  }
  // tokens (N, L) int64, pad (N, L) bool true = padding -> logits (N, 2)
  Tensor forward(const Tensor& tokens, const Tensor& pad) const {
    const int64_t L = tokens.size(1), d = embed.weight.size(1);
    const Tensor x = embed(tokens) + tg::nn::sinusoidal_positions(L, d).unsqueeze(0);
    const Tensor h = encoder(x, {.key_padding_mask = pad});                       // (N, L, d)
    const Tensor kept = tg::logical_not(pad).unsqueeze(-1);                       // (N, L, 1)
    const Tensor pooled = h.masked_fill(pad.unsqueeze(-1), 0.0).sum(1) / kept.sum(1);  // mean of real positions
    return head(pooled);
  }
};

}  // namespace

TEST_CASE("a Transformer encoder classifier from the blocks learns which sequences hold token 3") {
  tg::Generator gen(21);
  const int64_t N = 32, L = 6, vocab = 8;
  std::vector<int64_t> ids, labels;
  std::vector<float> padding;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t length = 2 + static_cast<int64_t>(gen.below(L - 1));
    bool three = false;
    for (int64_t i = 0; i < L; ++i) {
      const int64_t token = i < length ? 1 + static_cast<int64_t>(gen.below(vocab - 1)) : 0;
      three = three || token == 3;
      ids.push_back(token);
      padding.push_back(i < length ? 0.f : 1.f);
    }
    labels.push_back(three ? 1 : 0);
  }
  const Tensor tokens = tg::index_tensor(ids, Shape{N, L});
  const Tensor pad = tg::tensor(padding, Shape{N, L}).to(DType::boolean);
  const Tensor target = tg::index_tensor(labels);
  Classifier model(vocab, 16, gen);
  std::vector<std::pair<std::string, Tensor>> decayed, plain;
  for (const auto& [name, p] : model.named_parameters()) (p.ndim() > 1 ? decayed : plain).emplace_back(name, p);
  tg::optim::AdamW adamw({{decayed}, {plain, std::nullopt, 0.0}}, {.lr = 3e-3});
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    model.zero_grad();
    const Tensor loss = tg::cross_entropy(model.forward(tokens, pad), target);
    loss.backward();
    tg::optim::clip_grad_norm(model.parameters(), 1.0);
    adamw.step();
    (step == 0 ? first : last) = loss.item();
  }
  MESSAGE("classifier loss " << first << " -> " << last);
  CHECK(last < 0.5 * first);
  // Padding is ignored: changing a padded token changes nothing.
  model.eval();
  std::vector<int64_t> changed = ids;
  for (size_t i = 0; i < changed.size(); ++i)
    if (padding[i] == 1.f) changed[i] = 5;
  CHECK(test_support::max_abs_diff(model.forward(tokens, pad), model.forward(tg::index_tensor(changed, Shape{N, L}), pad)) < 1e-5);
}

TEST_CASE("ModuleListOf loops without casts; CTC greedy decoding and a generator's state from the library") {
  tg::nn::ModuleListOf<tg::nn::Linear> layers;
  for (int i = 0; i < 3; ++i) layers.push_back<tg::nn::Linear>(4, 4);
  Tensor x = tg::ones({2, 4});
  for (const tg::nn::Linear& layer : layers) x = layer(x).tanh();
  CHECK(x.shape() == Shape{2, 4});
  CHECK(layers[1].weight.shape() == Shape{4, 4});

  // Frames' best labels 1 1 0 2 2 0 0 3 -> collapse repeats, drop blanks: 1 2 3.
  const std::vector<int64_t> best = {1, 1, 0, 2, 2, 0, 0, 3};
  std::vector<float> rows;
  for (int64_t label : best)
    for (int64_t c = 0; c < 4; ++c) rows.push_back(c == label ? std::log(0.7f) : std::log(0.1f));
  CHECK(tg::ctc_greedy_decode(tg::tensor(rows, Shape{8, 4})) == std::vector<int64_t>{1, 2, 3});

  // A stream drawn outside the model, saved and found again: the resumed draws are the same.
  const std::filesystem::path path = std::filesystem::temp_directory_path() / "tapegrad_habits_generator.safetensors";
  tg::nn::Linear model(2, 2);
  tg::optim::Adam adam(model.named_parameters());
  tg::Generator augment(99);
  augment.next_u64();
  tg::train::save(model, adam, path.string(), {}, nullptr, {.generators = {{"augment", &augment}}});
  const uint64_t expected = augment.next_u64();
  tg::Generator resumed(1);
  tg::train::load(model, adam, path.string(), {}, nullptr, {.generators = {{"augment", &resumed}}});
  CHECK(resumed.next_u64() == expected);
  std::filesystem::remove(path);
}
