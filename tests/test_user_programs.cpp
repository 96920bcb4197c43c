// Three programs a PyTorch user writes, translated line for line from
// tests/fixtures/make_user_program_fixtures.py (no dtype workarounds), give
// PyTorch's numbers in float64: a character GPT with a tied output and AdamW
// groups; a fused op of one's own (raw loops and tg::record, as a
// torch.autograd.Function) checked by gradcheck and trained inside an MLP;
// a GRU classifier saved after 10 steps and resumed in a fresh model.
// Starting weights come from the fixture (each framework draws its own).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad.h"
#include "tapegrad_kernels.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("user_programs.txt");
  return loaded;
}

Tensor f64(const std::string& name) { return fixture_tensor(fixture(), name, DType::f64); }

// The model's parameters from the fixture's "<prefix>.init.<name>", by PyTorch's names.
void load_initial_state(tg::nn::Module& model, const std::string& prefix) {
  model.to(DType::f64);
  const auto named = model.named_parameters();
  for (const auto& entry : named) entry.second.copy_(f64(prefix + ".init." + entry.first));
  CHECK(named.size() > 0);
}

// Each loss as PyTorch's, to float64 rounding through the steps.
void check_losses(const std::vector<double>& got, const std::string& name, double tolerance) {
  const std::vector<double> want = f64(name).to_vector<double>();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(name << " step " << i << ": " << got[i] << " vs PyTorch's " << want[i]);
    CHECK(std::abs(got[i] - want[i]) <= tolerance * std::abs(want[i]));
  }
}

// ---- a character GPT ---------------------------------------------------------
const std::string kText = "the cat sat on the mat. the dog sat on the log. ";

struct TinyGPT : tg::nn::CallableModule<TinyGPT> {
  TinyGPT(int64_t vocab, int64_t context, int64_t d, int64_t heads, int layers)
      : token(vocab, d), position(context, d), norm(tg::Shape{d}) {
    for (int i = 0; i < layers; ++i)
      blocks.push_back(d, heads, tg::nn::TransformerLayerOptions{.dim_feedforward = 4 * d, .dropout = 0.0,
                                                                 .activation = "gelu", .batch_first = true,
                                                                 .norm_first = true});
    register_module("token", token);
    register_module("position", position);
    register_module("blocks", blocks);
    register_module("norm", norm);
  }

  Tensor forward(const Tensor& tokens) const {
    const int64_t T = tokens.size(1);
    Tensor h = token(tokens) + position(tg::arange(T));
    const Tensor causal = tg::triu(tg::ones({T, T}, {.dtype = DType::boolean}), 1);  // true = not allowed
    for (const tg::nn::TransformerEncoderLayer& block : blocks) h = block(h, {.attn_mask = causal});
    return tg::matmul(norm(h), token.weight.transpose(0, 1));
  }

  tg::nn::Embedding token, position;
  tg::nn::ModuleListOf<tg::nn::TransformerEncoderLayer> blocks;
  tg::nn::LayerNorm norm;
};

// ---- a fused op of one's own -------------------------------------------------
// y = a · silu(b) = a · b · σ(b);  da = dy · b·σ(b),  db = dy · a · σ(b)(1 + b(1 − σ(b)))
Tensor swiglu(const Tensor& a, const Tensor& b) {
  const Tensor ac = a.contiguous(), bc = b.contiguous();  // chunk's halves are views
  Tensor y = Tensor::empty(a.shape(), {.dtype = a.dtype()});
  tg::visit_float(a.dtype(), "swiglu", [&]<typename T>() {
    const T *pa = ac.data<T>("swiglu"), *pb = bc.data<T>("swiglu");
    T* py = y.data<T>("swiglu");
    for (int64_t i = 0; i < ac.numel(); ++i) py[i] = pa[i] * pb[i] * (1 / (1 + std::exp(-pb[i])));
  });
  const bool needs = a.requires_grad() || b.requires_grad();
  const tg::Saved a_saved = tg::save_if(needs, "a", ac), b_saved = tg::save_if(needs, "b", bc);
  tg::record("swiglu", {&a, &b}, y, {a_saved, b_saved},
             [da_slot = tg::slot_of(a), db_slot = tg::slot_of(b), a_saved, b_saved](const Tensor& dy) {
               const Tensor &ac = a_saved.get(), &bc = b_saved.get();
               const Tensor dyc = dy.contiguous();
               Tensor da = Tensor::empty(ac.shape(), {.dtype = ac.dtype()});
               Tensor db = Tensor::empty(ac.shape(), {.dtype = ac.dtype()});
               tg::visit_float(ac.dtype(), "swiglu", [&]<typename T>() {
                 const T *pa = ac.data<T>("swiglu"), *pb = bc.data<T>("swiglu"), *g = dyc.data<T>("swiglu");
                 T *pda = da.data<T>("swiglu"), *pdb = db.data<T>("swiglu");
                 for (int64_t i = 0; i < ac.numel(); ++i) {
                   const T s = 1 / (1 + std::exp(-pb[i]));
                   pda[i] = g[i] * pb[i] * s;
                   pdb[i] = g[i] * pa[i] * s * (1 + pb[i] * (1 - s));
                 }
               });
               tg::accumulate_grad(*da_slot, da);
               tg::accumulate_grad(*db_slot, db);
             });
  return y;
}

struct GatedMLP : tg::nn::CallableModule<GatedMLP> {
  GatedMLP(int64_t d_in, int64_t hidden, int64_t d_out) : up(d_in, 2 * hidden), down(hidden, d_out) {
    register_module("up", up);
    register_module("down", down);
  }
  Tensor forward(const Tensor& x) const {
    const std::vector<Tensor> halves = up(x).chunk(2, -1);
    return down(swiglu(halves[0], halves[1]));
  }
  tg::nn::Linear up, down;
};

// ---- save and resume ---------------------------------------------------------
struct Classifier : tg::nn::CallableModule<Classifier> {
  Classifier(int64_t d_in, int64_t hidden, int64_t classes)
      : gru(d_in, hidden, {.batch_first = true}), out(hidden, classes) {
    register_module("gru", gru);
    register_module("out", out);
  }
  Tensor forward(const Tensor& x) const {
    const Tensor h_n = gru(x).h_n;
    return out(h_n[-1]);
  }
  tg::nn::GRU gru;
  tg::nn::Linear out;
};

std::vector<double> train_steps(Classifier& model, tg::optim::Optimizer& optimizer, tg::optim::StepLR& schedule,
                                const Tensor& x, const Tensor& y, int steps) {
  std::vector<double> losses;
  for (int i = 0; i < steps; ++i) {
    const Tensor loss = tg::cross_entropy(model(x), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    schedule.step();
    losses.push_back(loss.item());
  }
  return losses;
}

}  // namespace

TEST_CASE("a character GPT with tied output and AdamW groups, translated from PyTorch: its losses and accuracy") {
  const std::set<char> letters(kText.begin(), kText.end());
  const std::string alphabet(letters.begin(), letters.end());  // sorted(set(TEXT))
  std::vector<int64_t> ids;
  for (const char c : kText) ids.push_back(static_cast<int64_t>(alphabet.find(c)));
  const int64_t V = static_cast<int64_t>(alphabet.size()), T = 8, B = 4;
  TinyGPT model(V, T, 16, 2, 2);
  load_initial_state(model, "gpt");
  std::vector<std::pair<std::string, Tensor>> decay, no_decay;
  for (const auto& entry : model.named_parameters()) (entry.second.dim() >= 2 ? decay : no_decay).push_back(entry);
  tg::optim::AdamW optimizer({{decay, std::nullopt, 0.1}, {no_decay, std::nullopt, 0.0}}, {.lr = 3e-3});

  auto batch = [&](int64_t step) {
    const int64_t n = static_cast<int64_t>(ids.size());
    std::vector<int64_t> x, y;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t s = (step * 7 + b * 11) % (n - T - 1);
      x.insert(x.end(), ids.begin() + s, ids.begin() + s + T);
      y.insert(y.end(), ids.begin() + s + 1, ids.begin() + s + T + 1);
    }
    return std::pair{tg::from_vector(x, {B, T}, {.dtype = DType::i64}),
                     tg::from_vector(y, {B, T}, {.dtype = DType::i64}).reshape({-1})};
  };
  std::vector<double> losses;
  for (int64_t step = 0; step < 30; ++step) {
    const auto batch_tensors = batch(step);
    const Tensor loss = tg::cross_entropy(model(batch_tensors.first).reshape({B * T, V}), batch_tensors.second);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    losses.push_back(loss.item());
  }
  check_losses(losses, "gpt.losses", 1e-12);

  const tg::NoGrad no_grad;
  const auto batch_tensors = batch(0);
  const Tensor correct = tg::eq(model(batch_tensors.first).reshape({B * T, V}).argmax(-1), batch_tensors.second).sum();
  const Tensor accuracy = correct / (B * T);
  CHECK(accuracy.dtype() == DType::f32);
  CHECK(accuracy.item() == f64("gpt.accuracy").item());
}

TEST_CASE("a fused op of one's own passes gradcheck, equals its torch.autograd.Function, and trains an MLP as in PyTorch") {
  const Tensor a = f64("swiglu.a").requires_grad_(), b = f64("swiglu.b").requires_grad_();
  const tg::GradcheckResult check =
      tg::gradcheck([](const std::vector<Tensor>& in) { return swiglu(in[0], in[1]); }, {a, b});
  CHECK_MESSAGE(check.ok, check.message);
  const tg::GradcheckResult strided = tg::gradcheck(
      [](const std::vector<Tensor>& in) { return swiglu(in[0].transpose(0, 1), in[1].transpose(0, 1)); }, {a, b});
  CHECK_MESSAGE(strided.ok, strided.message);

  const Tensor y = swiglu(a, b);
  (y * f64("swiglu.w")).sum().backward();
  check_fixture_close(fixture(), y, "swiglu.out", 1e-14);
  check_fixture_close(fixture(), a.grad(), "swiglu.grad_a", 1e-14);
  check_fixture_close(fixture(), b.grad(), "swiglu.grad_b", 1e-14);

  GatedMLP model(4, 8, 2);
  load_initial_state(model, "swiglu");
  const Tensor x = f64("swiglu.x"), target = f64("swiglu.target");
  tg::optim::Adam optimizer(model.named_parameters(), {.lr = 1e-2});
  std::vector<double> losses;
  for (int i = 0; i < 20; ++i) {
    const Tensor loss = tg::mse_loss(model(x), target);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    losses.push_back(loss.item());
  }
  check_losses(losses, "swiglu.losses", 1e-12);
}

TEST_CASE("save after 10 steps, resume in a fresh model: PyTorch's 20 losses, and the same bits as not stopping") {
  const Tensor x = f64("resume.x"), y = f64("resume.y").to(DType::i64);
  const std::string path = (std::filesystem::temp_directory_path() / "tapegrad_test_resume.safetensors").string();
  std::vector<double> losses;
  {
    Classifier model(3, 8, 3);
    load_initial_state(model, "resume");
    tg::optim::Adam optimizer(model.named_parameters(), {.lr = 2e-2});
    tg::optim::StepLR schedule(optimizer, 4, 0.5);
    losses = train_steps(model, optimizer, schedule, x, y, 10);
    tg::train::save(model, optimizer, path, {}, &schedule);
  }
  {
    tg::manual_seed(99);  // a fresh model: other weights until the checkpoint is loaded
    Classifier fresh(3, 8, 3);
    fresh.to(DType::f64);
    tg::optim::Adam optimizer(fresh.named_parameters(), {.lr = 2e-2});
    tg::optim::StepLR schedule(optimizer, 4, 0.5);
    tg::train::load(fresh, optimizer, path, {}, &schedule);
    const std::vector<double> more = train_steps(fresh, optimizer, schedule, x, y, 10);
    losses.insert(losses.end(), more.begin(), more.end());
  }
  std::filesystem::remove(path);
  check_losses(losses, "resume.losses", 1e-12);

  Classifier straight(3, 8, 3);  // the same 20 steps without stopping
  load_initial_state(straight, "resume");
  tg::optim::Adam optimizer(straight.named_parameters(), {.lr = 2e-2});
  tg::optim::StepLR schedule(optimizer, 4, 0.5);
  CHECK(train_steps(straight, optimizer, schedule, x, y, 20) == losses);
}

namespace {

// The CNN of make_cnn_program_fixtures.py, line for line.
struct CnnNet : tg::nn::CallableModule<CnnNet> {
  tg::nn::Conv2d conv1{1, 4, 3, {.padding = 1, .bias = false}};
  tg::nn::BatchNorm2d bn1{4};
  tg::nn::MaxPool2d pool{2};
  tg::nn::Conv2d conv2{4, 6, 3, {.stride = 2, .padding = 1}};
  tg::nn::AdaptiveAvgPool2d squeeze{{2, 2}};
  tg::nn::Flatten flatten;
  tg::nn::Linear fc{24, 3, {.bias = false}};
  tg::nn::BatchNorm1d bn2{3};

  CnnNet() {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("pool", pool);
    register_module("conv2", conv2);
    register_module("squeeze", squeeze);
    register_module("flatten", flatten);
    register_module("fc", fc);
    register_module("bn2", bn2);
  }
  Tensor forward(const Tensor& x) const {
    Tensor h = pool(tg::relu(bn1(conv1(x))));
    h = squeeze(tg::relu(conv2(h)));
    return bn2(fc(flatten(h)));
  }
};

const Fixture& cnn_fixture() {
  static const Fixture loaded = load_fixture("cnn_program.txt");
  return loaded;
}

}  // namespace

TEST_CASE("a small CNN (conv, BatchNorm2d/1d, pools, Flatten, Linear) trained with Adam, translated from PyTorch") {
  CnnNet net;
  net.to(DType::f64);
  for (const auto& [name, p] : net.named_parameters()) p.copy_(fixture_tensor(cnn_fixture(), "cnn.init." + name, DType::f64));
  const Tensor images = fixture_tensor(cnn_fixture(), "cnn.images", DType::f64);
  const Tensor labels = fixture_tensor(cnn_fixture(), "cnn.labels", DType::i64);
  tg::optim::Adam adam(net.named_parameters(), {.lr = 1e-2});
  std::vector<double> losses;
  for (int64_t step = 0; step < 8; ++step) {
    adam.zero_grad();
    const Tensor loss = tg::cross_entropy(net(images[step % 4]), labels[step % 4]);
    loss.backward();
    adam.step();
    losses.push_back(loss.item());
  }
  check_fixture_close(cnn_fixture(), tg::tensor(losses), "cnn.losses", 1e-12);
  for (const auto& [name, b] : net.named_buffers())
    if (name.find("running") != std::string::npos) check_fixture_close(cnn_fixture(), b, "cnn.after." + name, 1e-12);
  net.eval();
  const tg::NoGrad no_grad;
  check_fixture_close(cnn_fixture(), net(images[0]), "cnn.eval_logits", 1e-12);
}
