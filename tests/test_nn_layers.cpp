// The Module base (names, counts, modes, gradients, summary, registration
// errors), Linear, the init helpers, Embedding and Dropout: values computed by
// hand, float64 gradient checks, and the error messages; ModuleList, Sequential,
// the activation modules and models held by std::unique_ptr (factory, vector,
// optimizer, save and load).
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/dispatch/cuda.h"
#include "tapegrad.h"
#include "test_support.h"

namespace {

using test_support::check_gradcheck;
using test_support::max_abs;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::nn::Dropout;
using tg::nn::Embedding;
using tg::nn::Linear;
using tg::nn::Module;
using Inputs = std::vector<Tensor>;

void check_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  const std::vector<double> got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(tol));
  }
}

// ---------------------------------------------------------------------------
// Module

struct Block : Module {
  Linear proj;
  Dropout drop;
  Tensor scale;
  explicit Block(tg::Generator& gen) : proj(3, 4, {.dtype = DType::f32}, gen), drop(0.5) {
    scale = tg::ones({4});
    register_parameter("scale", scale);
    register_module("proj", proj);
    register_module("drop", drop);
  }
  std::string type_name() const override { return "Block"; }
  Tensor forward(const Tensor& x) const { return drop(proj(x)) * scale; }
};

struct Net : Module {
  Block block;
  Linear head;
  explicit Net(tg::Generator& gen) : block(gen), head(4, 2, {.bias = false, .dtype = DType::f32}, gen) {
    register_module("block", block);
    register_module("head", head);
  }
  std::string type_name() const override { return "Net"; }
  Tensor forward(const Tensor& x) const { return head(block.forward(x)); }
};

TEST_CASE("Module: dotted names in registration order, parameter_count") {
  tg::Generator gen(1);
  Net net(gen);
  const auto params = net.named_parameters();
  std::vector<std::string> names;
  for (const auto& [name, p] : params) names.push_back(name);
  CHECK(names == std::vector<std::string>{"block.scale", "block.proj.weight", "block.proj.bias", "head.weight"});
  CHECK(params[1].second.is_same(net.block.proj.weight));
  CHECK(params[1].second.shape() == Shape{4, 3});
  for (const auto& [name, p] : params) CHECK(p.requires_grad());
  CHECK(net.parameter_count() == 4 + 12 + 4 + 8);
  CHECK(net.parameters().size() == 4);
  const auto children = net.named_children();
  REQUIRE(children.size() == 2);
  CHECK(children[0].first == "block");
  CHECK(children[0].second == &net.block);
}

TEST_CASE("nn::EvalMode: eval for a scope, the mode before coming back, an exception included") {
  tg::Generator gen(2);
  Net net(gen);
  {
    const tg::nn::EvalMode eval(net);
    CHECK(!net.is_training());
    CHECK(!net.block.drop.is_training());
  }
  CHECK(net.is_training());
  CHECK(net.block.drop.is_training());
  try {
    const tg::nn::EvalMode eval(net);
    throw std::runtime_error("a decode that fails");
  } catch (const std::runtime_error&) {
  }
  CHECK(net.block.drop.is_training());
  net.eval();
  { const tg::nn::EvalMode eval(net); }
  CHECK(!net.is_training());  // a model in eval mode stays so
}

TEST_CASE("Module: train and eval propagate to every descendant") {
  tg::Generator gen(2);
  Net net(gen);
  CHECK(net.is_training());
  CHECK(net.block.drop.is_training());
  net.eval();
  CHECK(!net.is_training());
  CHECK(!net.block.is_training());
  CHECK(!net.block.proj.is_training());
  CHECK(!net.block.drop.is_training());
  CHECK(!net.head.is_training());
  // eval turns the nested dropout off: the output is deterministic
  const Tensor x = tg::randn({5, 3}, {}, gen);
  const std::vector<double> a = net.forward(x).to_vector<double>(), b = net.forward(x).to_vector<double>();
  CHECK(a == b);
  net.block.train();  // a subtree alone
  CHECK(net.block.drop.is_training());
  CHECK(!net.is_training());
  net.train();
  CHECK(net.head.is_training());
}

TEST_CASE("Module: zero_grad drops every gradient") {
  tg::Generator gen(3);
  Net net(gen);
  net.eval();
  tg::sum(net.forward(tg::randn({2, 3}, {}, gen))).backward();
  for (const auto& [name_, p_] : net.named_parameters()) {
    const auto& name = name_;  // a plain reference: clang 14 cannot capture a structured binding
    const auto& p = p_;
    INFO(name);
    CHECK(p.grad().defined());
  }
  net.zero_grad();
  for (const auto& [name_, p_] : net.named_parameters()) {
    const auto& name = name_;  // a plain reference: clang 14 cannot capture a structured binding
    const auto& p = p_;
    INFO(name);
    CHECK(!p.grad().defined());
  }
}

TEST_CASE("Module: summary lists type, names, shapes, counts and the total") {
  tg::Generator gen(4);
  Net net(gen);
  const std::string s = net.summary();
  CHECK(s.rfind("Net", 0) == 0);
  for (const char* part : {"block.scale", "block.proj.weight", "block.proj.bias", "head.weight", "(4, 3)", "(2, 4)",
                           "(4,)", "total", "28"})
    CHECK_MESSAGE(s.find(part) != std::string::npos, "summary lacks " << part << ":\n" << s);
}

// Everything Module::to must keep: the handles, values, requires_grad and gradients.
struct Snapshot {
  std::vector<Tensor> params, grads;
  std::vector<const void*> data;
  std::vector<std::vector<double>> values;
  explicit Snapshot(const Module& m) {
    for (const Tensor& p : m.parameters()) {
      params.push_back(p);
      grads.push_back(p.grad());
      data.push_back(p.view().data);
      values.push_back(p.to_vector<double>());
    }
  }
  void check_unchanged(const Module& m) const {
    const std::vector<Tensor> now = m.parameters();
    REQUIRE(now.size() == params.size());
    for (size_t i = 0; i < now.size(); ++i) {
      INFO("parameter " << i);
      CHECK(now[i].is_same(params[i]));
      CHECK(now[i].device() == tg::Device::cpu());
      CHECK(now[i].view().data == data[i]);
      CHECK(now[i].requires_grad());
      CHECK(now[i].grad().is_same(grads[i]));
      CHECK(now[i].to_vector<double>() == values[i]);
    }
  }
};

TEST_CASE("Module: to(cpu) on a cpu module changes nothing and keeps every handle") {
  tg::Generator gen(5);
  Net net(gen);
  net.eval();
  tg::sum(net.forward(tg::randn({2, 3}, {}, gen))).backward();  // gradients must survive too
  const Snapshot before(net);
  tg::optim::Adam adam(net.named_parameters(), {.lr = 0.1});
  net.to(tg::Device::cpu());
  CHECK(net.device() == tg::Device::cpu());
  before.check_unchanged(net);
  for (size_t i = 0; i < adam.parameters().size(); ++i) CHECK(adam.parameters()[i].is_same(before.params[i]));
  Dropout no_parameters(0.5);
  CHECK(no_parameters.device() == tg::Device::cpu());
}

TEST_CASE("Module: to(cuda) moves in place, or fails leaving the module as it was") {
  tg::Generator gen(6);
  Net net(gen);
  const Snapshot before(net);
  if (!tg::cuda::is_available()) {
    CHECK_THROWS_WITH_AS(net.to(tg::Device::cuda()), doctest::Contains("cuda:0"), tg::Error);
    before.check_unchanged(net);
    return;
  }
  tg::optim::SGD sgd(net.named_parameters(), {.lr = 0.5});  // made before the move: must see it
  net.to(tg::Device::cuda());
  CHECK(net.device() == tg::Device::cuda());
  const std::vector<Tensor> params = net.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(params[i].is_same(before.params[i]));
    CHECK(params[i].device() == tg::Device::cuda());
    CHECK(params[i].requires_grad());
    CHECK(params[i].to_vector<double>() == before.values[i]);
  }
  net.eval();
  const Tensor x = tg::randn({2, 3}, {DType::f32, tg::Device::cuda()}, gen);
  tg::sum(net.forward(x)).backward();
  sgd.step();  // updates the moved tensors
  net.to(tg::Device::cpu());
  for (size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(params[i].device() == tg::Device::cpu());
    CHECK(params[i].grad().device() == tg::Device::cpu());
    CHECK(params[i].to_vector<double>() != before.values[i]);
  }
}

struct Twice : Module {
  Tensor w = tg::zeros({2});
  Linear a{2, 2}, b{2, 2};
  explicit Twice(int what) {
    if (what == 0) {
      register_parameter("w", w);
      register_parameter("w", w);
    } else if (what == 1) {
      register_module("a", a);
      register_module("a", b);
    } else if (what == 2) {
      register_parameter("w.x", w);
    } else {
      Tensor undefined;
      register_parameter("u", undefined);
    }
  }
};

TEST_CASE("Module: registration errors") {
  CHECK_THROWS_WITH_AS(Twice(0), doctest::Contains("parameter 'w' is registered twice"), tg::Error);
  CHECK_THROWS_WITH_AS(Twice(1), doctest::Contains("child module 'a' is registered twice"), tg::Error);
  CHECK_THROWS_WITH_AS(Twice(2), doctest::Contains("'w.x' must be non-empty and contain no '.'"), tg::Error);
  CHECK_THROWS_WITH_AS(Twice(3), doctest::Contains("undefined"), tg::Error);
}

// ---------------------------------------------------------------------------
// Linear

TEST_CASE("Linear: values computed by hand, with and without bias") {
  Linear with_bias(2, 3, {.dtype = DType::f64}), no_bias(2, 3, {.bias = false, .dtype = DType::f64});
  const Tensor w = tg::tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {3, 2}, {.dtype = tg::DType::f64});  // (out, in)
  with_bias.weight.copy_(w);
  no_bias.weight.copy_(w);
  with_bias.bias.copy_(tg::tensor({0.5, -1.0, 2.0}, {}, {.dtype = tg::DType::f64}));
  const Tensor x = tg::tensor({1.0, -1.0, 2.0, 0.5}, {2, 2}, {.dtype = tg::DType::f64});
  // x Wᵀ: row 0 = (1-2, 3-4, 5-6) = (-1, -1, -1); row 1 = (2+1, 6+2, 10+3) = (3, 8, 13)
  check_values(no_bias(x), {-1, -1, -1, 3, 8, 13});
  check_values(with_bias(x), {-0.5, -2, 1, 3.5, 7, 15});
  CHECK(!no_bias.bias.defined());
  CHECK(no_bias.named_parameters().size() == 1);
  // leading dimensions pass through: (2, 1, 2) -> (2, 1, 3)
  const Tensor y3 = with_bias(tg::reshape(x, {2, 1, 2}));
  CHECK(y3.shape() == Shape{2, 1, 3});
  check_values(y3, {-0.5, -2, 1, 3.5, 7, 15});
}

TEST_CASE("Linear: init is U(±1/√in) and reproducible") {
  tg::Generator g1(5), g2(5);
  Linear a(16, 8, {.dtype = DType::f32}, g1), b(16, 8, {.dtype = DType::f32}, g2);
  CHECK(a.weight.to_vector<float>() == b.weight.to_vector<float>());
  CHECK(a.weight.shape() == Shape{8, 16});
  CHECK(a.bias.shape() == Shape{8});
  CHECK(max_abs(a.weight) <= 0.25);
  CHECK(max_abs(a.weight) > 0.2);
  CHECK(max_abs(a.bias) <= 0.25);
  CHECK(a.type_name() == "Linear");
}

TEST_CASE("Linear: float64 gradient check over input, weight and bias") {
  tg::Generator gen(6);
  Linear lin(3, 2, {.dtype = DType::f64}, gen);
  const Tensor x = tg::randn({2, 2, 3}, {DType::f64}, gen).requires_grad_();
  check_gradcheck(tg::gradcheck([&](const Inputs& in) { return lin(in[0]); }, {x, lin.weight, lin.bias}));
}

TEST_CASE("Linear: errors") {
  Linear lin(3, 2);
  CHECK_THROWS_WITH_AS(lin(tg::zeros({4, 5})), doctest::Contains("input (4, 5) must end in in_features=3"), tg::Error);
  CHECK_THROWS_WITH_AS(Linear(0, 2), doctest::Contains("in_features=0"), tg::Error);
}

// ---------------------------------------------------------------------------
// init

TEST_CASE("init: xavier_uniform_ stays within gain·√(6 / (fan_in + fan_out)) and fills it") {
  tg::Generator gen(7);
  const Tensor w = tg::zeros({20, 30});
  tg::nn::init::xavier_uniform_(w, 2.0, gen);
  const double bound = 2.0 * std::sqrt(6.0 / 50.0);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.95 * bound);
  CHECK_THROWS_WITH_AS(tg::nn::init::xavier_uniform_(tg::zeros({3}), 1.0, gen),
                       doctest::Contains("needs a tensor of at least 2 dimensions (out, in, ...), got (3,)"), tg::Error);
}

// QᵀQ (cols <= rows) or QQᵀ (rows < cols): the Gram matrix of the shorter side.
void check_orthonormal(int64_t rows, int64_t cols, double gain) {
  INFO(rows << " x " << cols);
  tg::Generator gen(8);
  const Tensor q = tg::zeros({rows, cols}, {DType::f64});
  tg::nn::init::orthogonal_(q, gain, gen);
  const Tensor qt = tg::transpose(q, 0, 1);
  const Tensor gram = rows >= cols ? tg::matmul(qt, q) : tg::matmul(q, qt);
  const int64_t k = std::min(rows, cols);
  REQUIRE(gram.shape() == Shape{k, k});
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      const double expected = i == j ? gain * gain : 0.0;
      CHECK(std::abs(gram.at({i, j}) - expected) < 1e-12);
    }
}

TEST_CASE("init: orthogonal_ gives orthonormal columns (tall) or rows (wide)") {
  check_orthonormal(7, 3, 1.0);   // tall: QᵀQ = I
  check_orthonormal(3, 7, 1.0);   // wide: QQᵀ = I
  check_orthonormal(5, 5, 1.0);   // square: both
  check_orthonormal(6, 4, 0.5);   // gain scales: QᵀQ = gain² I
  const Tensor f32 = tg::zeros({4, 4});
  tg::nn::init::orthogonal_(f32);
  const Tensor gram = tg::matmul(tg::transpose(f32, 0, 1), f32);
  CHECK(gram.at({1, 1}) == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(std::abs(gram.at({0, 1})) < 1e-5);
  CHECK_THROWS_WITH_AS(tg::nn::init::orthogonal_(tg::zeros({2, 2, 2})), doctest::Contains("got (2, 2, 2)"), tg::Error);
}

TEST_CASE("init: uniform_, normal_, zeros_, constant_ fill in place, reproducibly") {
  tg::Generator g1(9), g2(9);
  const Tensor a = tg::zeros({100, 100}), b = tg::zeros({100, 100});
  tg::nn::init::uniform_(a, -0.5, 1.5, g1);
  tg::nn::init::uniform_(b, -0.5, 1.5, g2);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  const std::vector<float> u = a.to_vector<float>();
  CHECK(*std::min_element(u.begin(), u.end()) >= -0.5f);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.5f);
  CHECK(tg::mean(a).item() == doctest::Approx(0.5).epsilon(0.02));
  tg::nn::init::normal_(a, 3.0, 2.0, g1);
  const double mean = tg::mean(a).item();
  CHECK(mean == doctest::Approx(3.0).epsilon(0.02));
  const double var = tg::mean((a - mean) * (a - mean)).item();
  CHECK(std::sqrt(var) == doctest::Approx(2.0).epsilon(0.03));
  tg::nn::init::constant_(a, 2.5);
  CHECK(tg::sum(a).item() == doctest::Approx(25000.0));
  tg::nn::init::zeros_(a);
  CHECK(max_abs(a) == 0);
}

// ---------------------------------------------------------------------------
// Embedding

TEST_CASE("Embedding: rows looked up for any index shape; N(0, 1) init") {
  tg::Generator gen(10);
  Embedding emb(200, 50, -1, DType::f64, gen);
  CHECK(emb.weight.shape() == Shape{200, 50});
  CHECK(emb.named_parameters()[0].first == "weight");
  const double mean = tg::mean(emb.weight).item();
  const double std = std::sqrt(tg::mean((emb.weight - mean) * (emb.weight - mean)).item());
  CHECK(std::abs(mean) < 0.03);
  CHECK(std == doctest::Approx(1.0).epsilon(0.03));
  const Tensor index = tg::index_tensor({7, 0, 199, 7, 3, 42}, {2, 3});
  const Tensor y = emb(index);
  CHECK(y.shape() == Shape{2, 3, 50});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      const auto row = static_cast<int64_t>(index.at({i, j}));
      for (int64_t d : {0, 17, 49}) CHECK(y.at({i, j, d}) == emb.weight.at({row, d}));
    }
}

TEST_CASE("Embedding: the padding row starts at zero and gets no gradient") {
  tg::Generator gen(11);
  Embedding emb(4, 3, 0, DType::f64, gen);
  CHECK(max_abs(tg::select(emb.weight, 0, 0)) == 0);
  CHECK(max_abs(tg::select(emb.weight, 0, 1)) > 0);
  const Tensor index = tg::index_tensor({1, 0, 1, 2, 1, 0}, {2, 3});
  tg::sum(emb(index)).backward();  // d/d row r = (times r was looked up), except the padding row
  const Tensor g = emb.weight.grad();
  check_values(g, {0, 0, 0, 3, 3, 3, 1, 1, 1, 0, 0, 0});
}

TEST_CASE("Embedding: float64 gradient check over the table") {
  // No padding row here: its zeroed gradient is by design, not the derivative.
  tg::Generator gen(12);
  Embedding emb(5, 2, -1, DType::f64, gen);
  const Tensor index = tg::index_tensor({4, 3, 0, 4}, {2, 2});
  check_gradcheck(tg::gradcheck([&](const Inputs&) { return emb(index); }, {emb.weight}));
}

TEST_CASE("Embedding: errors") {
  CHECK_THROWS_WITH_AS(Embedding(4, 3, 4), doctest::Contains("padding_idx must be in 0..3 or -1 for none, got 4"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(Embedding(4, 3, -2), doctest::Contains("got -2"), tg::Error);
  CHECK_THROWS_WITH_AS(Embedding(0, 3), doctest::Contains("num_embeddings=0"), tg::Error);
  Embedding emb(4, 3);
  CHECK_THROWS_WITH_AS(emb(tg::zeros({2})), doctest::Contains("index must be int64, got float32"), tg::Error);
  CHECK_THROWS_WITH_AS(emb(tg::index_tensor({1, 4})), doctest::Contains("4"), tg::Error);
  CHECK_THROWS_WITH_AS(emb(Tensor()), doctest::Contains("'index' is an undefined tensor"), tg::Error);
}

// ---------------------------------------------------------------------------
// Dropout

TEST_CASE("Dropout: training zeroes about p of the elements and scales the rest by 1/(1-p)") {
  Dropout drop(0.3, 42);
  CHECK(drop.is_training());
  const Tensor x = tg::ones({100, 100}, {DType::f64}).requires_grad_();
  const Tensor y = drop(x);
  int64_t zeros = 0, wrongly_scaled = 0;
  for (double v : y.to_vector<double>()) {
    if (v == 0) ++zeros;
    else if (std::abs(v - 1 / 0.7) > 1e-12) ++wrongly_scaled;
  }
  CHECK(wrongly_scaled == 0);
  CHECK(static_cast<double>(zeros) / 10000 == doctest::Approx(0.3).epsilon(0.1));
  // dx = m / (1 - p) = y / x with x = 1
  tg::sum(y).backward();
  CHECK(x.grad().to_vector<double>() == y.to_vector<double>());
}

TEST_CASE("Dropout: evaluation is the identity; masks are reproducible from the seed") {
  const Tensor x = tg::randn({30, 30});
  Dropout a(0.5, 7), b(0.5, 7), c(0.5, 8);
  const std::vector<float> ya = a(x).to_vector<float>();
  CHECK(ya == b(x).to_vector<float>());
  CHECK(ya != c(x).to_vector<float>());
  CHECK(ya != a(x).to_vector<float>());  // the generator advances
  a.eval();
  CHECK(a(x).to_vector<float>() == x.to_vector<float>());
  Dropout none(0.0);
  CHECK(none(x).to_vector<float>() == x.to_vector<float>());
  CHECK(a.parameter_count() == 0);
  CHECK(a.p() == 0.5);
}

TEST_CASE("Dropout without a seed: each module its own stream, set by tg::manual_seed") {
  const Tensor x = tg::ones({40, 40});
  auto masks = [&](uint64_t seed) {
    tg::manual_seed(seed);
    const Dropout first(0.5), second(0.5);
    return std::pair{first(x).to_vector<float>(), second(x).to_vector<float>()};
  };
  const auto [a1, a2] = masks(3);
  CHECK(a1 != a2);  // two modules draw different masks
  const auto [b1, b2] = masks(3);
  CHECK(a1 == b1);  // the same seed and construction order: the same masks
  CHECK(a2 == b2);
  const auto [c1, c2] = masks(4);
  CHECK(a1 != c1);  // another seed: other masks
  // Asking for a module stream draws nothing from the default generator: parameters start as before.
  tg::manual_seed(5);
  const std::vector<float> plain = tg::randn({8}).to_vector<float>();
  tg::manual_seed(5);
  const Dropout in_between(0.5);
  CHECK(tg::randn({8}).to_vector<float>() == plain);
}

TEST_CASE("Dropout: errors") {
  CHECK_THROWS_WITH_AS(Dropout(1.0), doctest::Contains("p must be in [0, 1), got 1"), tg::Error);
  CHECK_THROWS_WITH_AS(Dropout(-0.1), doctest::Contains("got -0.1"), tg::Error);
  Dropout drop(0.5);
  CHECK_THROWS_WITH_AS(drop(Tensor()), doctest::Contains("'x' is an undefined tensor"), tg::Error);
}

}  // namespace

TEST_CASE("reseed makes dropout masks depend only on the seed given") {
  struct Net : tg::nn::Module {
    tg::nn::Dropout first{0.5}, second{0.5};
    Net() {
      register_module("first", first);
      register_module("second", second);
    }
  };
  Net a, b;
  const tg::Tensor x = tg::ones({64});
  a.reseed(7);
  const auto a1 = a.first(x).to_vector<float>(), a2 = a.second(x).to_vector<float>();
  (void)b.first(x);  // b's streams advance differently ...
  b.reseed(7);       // ... until reseeded with the same number
  CHECK(b.first(x).to_vector<float>() == a1);
  CHECK(b.second(x).to_vector<float>() == a2);
  CHECK(a1 != a2);  // children get distinct streams
  a.reseed(8);
  CHECK(a.first(x).to_vector<float>() != a1);
}

TEST_CASE("a generator can be passed without spelling out the dtype") {
  using namespace tg;
  auto same_parameters = [](const nn::Module& a, const nn::Module& b) {
    const auto pa = a.named_parameters(), pb = b.named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (size_t i = 0; i < pa.size(); ++i) {
      CHECK(pa[i].first == pb[i].first);
      CHECK(pa[i].second.dtype() == DType::f32);
      CHECK(pa[i].second.to_vector<float>() == pb[i].second.to_vector<float>());
    }
  };
  Generator g1(5), g2(5);
  same_parameters(nn::Linear(3, 2, g1), nn::Linear(3, 2, {.dtype = DType::f32}, g2));
  same_parameters(nn::Embedding(7, 4, g1), nn::Embedding(7, 4, -1, DType::f32, g2));
  same_parameters(nn::GRUCell(3, 5, g1), nn::GRUCell(3, 5, {.dtype = DType::f32}, g2));
  same_parameters(nn::GRU(3, 5, nn::GRUOptions{}, g1), nn::GRU(3, 5, nn::GRUOptions{}, DType::f32, g2));
  same_parameters(nn::AdditiveAttention(4, 6, 5, g1), nn::AdditiveAttention(4, 6, 5, DType::f32, g2));
  same_parameters(nn::LuongAttention(4, 4, nn::LuongScore::general, g1),
                  nn::LuongAttention(4, 4, nn::LuongScore::general, DType::f32, g2));
}

TEST_CASE("every module takes its dtype as .dtype in its options; the older argument forms give the same") {
  using namespace tg;
  const DType f64 = DType::f64;
  auto all_f64_and_same = [](const nn::Module& a, const nn::Module& b) {
    const auto pa = a.named_parameters(), pb = b.named_parameters();
    REQUIRE(pa.size() == pb.size());
    REQUIRE_FALSE(pa.empty());
    for (size_t i = 0; i < pa.size(); ++i) {
      CHECK(pa[i].first == pb[i].first);
      CHECK(pa[i].second.dtype() == DType::f64);
      CHECK(pa[i].second.to_vector<double>() == pb[i].second.to_vector<double>());
    }
  };
  Generator g1(9), g2(9);
  all_f64_and_same(nn::Linear(3, 2, {.dtype = f64}, g1), nn::Linear(3, 2, {.bias = true, .dtype = f64}, g2));
  all_f64_and_same(nn::GRUCell(3, 5, {.dtype = f64}, g1), nn::GRUCell(3, 5, {.dtype = f64}, g2));
  all_f64_and_same(nn::GRU(32, 16, {.dtype = f64}, g1), nn::GRU(32, 16, {}, f64, g2));
  all_f64_and_same(nn::LSTM(8, 4, {.num_layers = 2, .dtype = f64}, g1), nn::LSTM(8, 4, {.num_layers = 2}, f64, g2));
  all_f64_and_same(nn::Embedding(10, 4, {.padding_idx = 0, .dtype = f64}, g1), nn::Embedding(10, 4, 0, f64, g2));
  all_f64_and_same(nn::AdditiveAttention(4, 6, 5, {.dtype = f64}, g1), nn::AdditiveAttention(4, 6, 5, f64, g2));
  all_f64_and_same(nn::LuongAttention(4, 6, nn::LuongScore::general, {.dtype = f64}, g1),
                   nn::LuongAttention(4, 6, nn::LuongScore::general, f64, g2));
  CHECK(nn::Embedding(10, 4, {.padding_idx = 0}).weight.to_vector<float>()[0] == 0.0f);  // the padding row
}

TEST_CASE("Module::to(DType): parameters and gradients converted in place, handles kept, attention follows") {
  using namespace tg;
  struct Tagger : nn::Module {
    nn::Embedding embed{12, 6};
    nn::GRU gru{6, 8};
    nn::LuongAttention attention{8, 8};  // dot score: no parameters, a dtype of its own
    nn::Linear out{8, 12};
    Tagger() {
      register_module("embed", embed);
      register_module("gru", gru);
      register_module("attention", attention);
      register_module("out", out);
    }
  } model;
  const auto before = model.named_parameters();
  std::vector<std::vector<double>> values;
  for (const auto& [name, p] : before) values.push_back(p.to_vector<double>());
  model.out.weight.set_grad(ones(model.out.weight.shape()));

  model.to(DType::f64);
  const auto after = model.named_parameters();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CAPTURE(after[i].first);
    CHECK(after[i].second.is_same(before[i].second));  // the same handle: an optimizer made earlier sees it
    CHECK(after[i].second.dtype() == DType::f64);
    CHECK(after[i].second.requires_grad());
    CHECK(after[i].second.to_vector<double>() == values[i]);  // float32 values are exact in float64
  }
  CHECK(model.out.weight.grad().dtype() == DType::f64);
  CHECK(model.attention.dtype() == DType::f64);

  // It runs in float64 and trains: a loss and gradients in float64.
  const Tensor tokens = reshape(index_tensor({1, 2, 3, 4, 5, 6}), Shape{3, 2});
  const Tensor states = model.gru(model.embed(tokens)).output;  // (3, 2, 8)
  const Tensor query = select(states, 0, 2);                     // (2, 8)
  const Tensor context = model.attention(query, transpose(states, 0, 1)).context;
  const Tensor loss = sum(model.out(context));
  CHECK(loss.dtype() == DType::f64);
  model.zero_grad();
  loss.backward();
  CHECK(model.gru.named_parameters()[0].second.grad().dtype() == DType::f64);

  model.to(DType::f32);  // and back, bit for bit
  for (size_t i = 0; i < after.size(); ++i) CHECK(model.named_parameters()[i].second.to_vector<double>() == values[i]);
  CHECK_THROWS_WITH_AS(model.to(DType::i64), doctest::Contains("parameters must be float32 or float64, got int64"),
                       Error);
}

TEST_CASE("tied weights: a tensor under two names is one parameter to the listing, the count, Adam and checkpoints") {
  using namespace tg;
  struct TiedLM : nn::Module {
    nn::Embedding embed{10, 5};
    nn::Linear out{5, 10};  // weight (10, 5): the embedding's shape
    TiedLM() {
      register_module("embed", embed);
      register_module("out", out);
      out.weight = embed.weight;  // tie, as in PyTorch: out.weight = embed.weight
    }
    Tensor forward(const Tensor& tokens) const { return out(embed(tokens)); }
  } model;
  const auto named = model.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "embed.weight");  // the name met first
  CHECK(named[1].first == "out.bias");
  CHECK(model.parameter_count() == 50 + 10);
  CHECK(model.summary().find("out.weight") == std::string::npos);
  CHECK(model.summary().rfind("TiedLM\n", 0) == 0);  // a user's class is named by its C++ name
  CHECK(model.out.type_name() == "Linear");

  // Adam takes the list as it is; the update sees the gradient of both uses.
  optim::Adam adam(model.named_parameters(), {.lr = 0.1});
  const std::vector<float> before = model.embed.weight.to_vector<float>();
  const Tensor loss = sum(model.forward(index_tensor({1, 2, 3})));
  loss.backward();
  adam.step();
  CHECK(model.out.weight.is_same(model.embed.weight));
  CHECK(model.embed.weight.to_vector<float>() != before);

  // A checkpoint holds the tensor once and loads back into both uses.
  const std::string path = (std::filesystem::temp_directory_path() / fmt::format("tg_tied_{}.safetensors", getpid())).string();
  nn::save(model, path);
  TiedLM other;
  nn::load(other, path);
  CHECK(other.embed.weight.to_vector<float>() == model.embed.weight.to_vector<float>());
  CHECK(other.out.weight.is_same(other.embed.weight));
  std::filesystem::remove(path);
}

TEST_CASE("buffers: registered, saved and loaded, moved by to(); never trained") {
  using namespace tg;
  struct Normalizer : nn::Module {
    nn::Linear proj{3, 3};
    Tensor running_mean = zeros({3});                       // float: follows to(DType)
    Tensor seen = index_tensor({0});                         // int64 counter: keeps its dtype
    Tensor keep = from_vector(std::vector<float>{1, 0, 1}, Shape{3}, {}).to(DType::boolean);  // a fixed mask
    Normalizer() {
      register_module("proj", proj);
      register_buffer("running_mean", running_mean);
      register_buffer("seen", seen);
      register_buffer("keep", keep);
    }
  } model;
  const auto buffers = model.named_buffers();
  REQUIRE(buffers.size() == 3);
  CHECK(buffers[0].first == "running_mean");
  CHECK(model.named_parameters().size() == 2);  // proj.weight, proj.bias only
  CHECK(model.state_dict().size() == 5);
  CHECK_FALSE(model.running_mean.requires_grad());

  // Saved and loaded with the parameters.
  compute::fill(model.running_mean, 0.5);
  compute::fill(model.seen, 7);
  const std::string path = (std::filesystem::temp_directory_path() / fmt::format("tg_buffers_{}.safetensors", getpid())).string();
  nn::save(model, path);
  Normalizer other;
  nn::load(other, path);
  CHECK(other.running_mean.to_vector<double>() == std::vector<double>(3, 0.5));
  CHECK(other.seen.to_vector<int64_t>() == std::vector<int64_t>{7});
  CHECK(other.keep.to_vector<double>() == std::vector<double>{1, 0, 1});

  // A file without a buffer is refused by name (strict), as a missing parameter is.
  struct Plain : nn::Module {
    nn::Linear proj{3, 3};
    Plain() { register_module("proj", proj); }
  } plain;
  nn::save(plain, path);
  CHECK_THROWS_WITH_AS(nn::load(other, path), doctest::Contains("3 missing keys: running_mean, seen, keep"), Error);
  std::filesystem::remove(path);

  // to(DType) converts floating buffers only.
  model.to(DType::f64);
  CHECK(model.running_mean.dtype() == DType::f64);
  CHECK(model.seen.dtype() == DType::i64);
  CHECK(model.keep.dtype() == DType::boolean);

  // A buffer does not require grad and shares no name.
  struct Bad : nn::Module {
    Tensor w = zeros({2});
    explicit Bad(int which) {
      if (which == 0) w.requires_grad_(), register_buffer("w", w);
      if (which == 1) register_parameter("w", w), register_buffer("w", w);
    }
  };
  CHECK_THROWS_WITH_AS(Bad(0), doctest::Contains("buffer 'w' requires grad"), Error);
  CHECK_THROWS_WITH_AS(Bad(1), doctest::Contains("buffer 'w' is registered twice (first as a parameter)"), Error);
}

TEST_CASE("named_parameters: own parameters first, then children, as the header says") {
  using namespace tg;
  struct Net : nn::Module {
    nn::Linear child{2, 2};
    Tensor own = zeros({3});
    Net() {
      register_module("child", child);  // registered first...
      register_parameter("own", own);   // ...but listed first, being the module's own
    }
  } net;
  const auto names = net.named_parameters();
  REQUIRE(names.size() == 3);
  CHECK(names[0].first == "own");
  CHECK(names[1].first == "child.weight");
  CHECK(names[2].first == "child.bias");
}

// ---------------------------------------------------------------------------
// ModuleList, Sequential, activation modules, and models held by unique_ptr

TEST_CASE("ModuleList: children named 0, 1, ..., indexing, iteration, typed access") {
  using namespace tg;
  tg::Generator gen(3);
  struct Stack : nn::Module {
    nn::ModuleList blocks;
    Stack(tg::Generator& g, int depth) {
      for (int i = 0; i < depth; ++i) blocks.push_back<nn::Linear>(2, 2, g);
      register_module("blocks", blocks);
    }
  } stack(gen, 3);
  CHECK(stack.blocks.size() == 3);
  CHECK_FALSE(stack.blocks.empty());
  std::vector<std::string> names;
  for (const auto& [name, p] : stack.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
                                          "blocks.2.weight", "blocks.2.bias"});
  // operator[] and at<M> reach the same module; iteration visits them in order.
  CHECK(&stack.blocks[1] == &stack.blocks.at<nn::Linear>(1));
  CHECK(stack.blocks.at<nn::Linear>(2).weight.is_same(stack.named_parameters()[4].second));
  int visited = 0;
  for (nn::Module& m : stack.blocks) {
    CHECK(&m == &stack.blocks[visited]);
    CHECK(m.type_name() == "Linear");
    ++visited;
  }
  CHECK(visited == 3);
  // A module built elsewhere is adopted; push_back returns the stored module.
  auto made = std::make_unique<nn::Dropout>(0.25);
  nn::Dropout* raw = made.get();
  CHECK(&stack.blocks.push_back(std::move(made)) == raw);
  CHECK(stack.blocks.named_children().back().first == "3");
  // Mode changes reach list members.
  stack.eval();
  CHECK_FALSE(stack.blocks[3].is_training());
  CHECK_THROWS_WITH_AS(stack.blocks[4], doctest::Contains("index 4 is out of range for a list of 4 modules"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(stack.blocks.at<nn::Linear>(3), doctest::Contains("module 3 is a Dropout"), tg::Error);
  CHECK_THROWS_WITH_AS(stack.blocks.push_back(std::unique_ptr<nn::Linear>()), doctest::Contains("null module"),
                       tg::Error);
}

TEST_CASE("activation modules compute their ops") {
  using namespace tg;
  const Tensor x = tensor({-2.0, 0.0, 0.5}, {}, {.dtype = tg::DType::f64});
  check_values(nn::Tanh()(x), {std::tanh(-2.0), 0.0, std::tanh(0.5)});
  check_values(nn::ReLU()(x), {0.0, 0.0, 0.5});
  check_values(nn::Sigmoid()(x), {1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-0.5))});
  CHECK(nn::ReLU().parameter_count() == 0);
  CHECK(nn::Sigmoid().type_name() == "Sigmoid");
}

TEST_CASE("Sequential: runs its layers in order, PyTorch's names, gradients flow") {
  using namespace tg;
  tg::Generator gen(7);
  nn::Sequential mlp;
  nn::Linear& first = mlp.push_back<nn::Linear>(3, 4, nn::LayerOptions{.dtype = DType::f64}, gen);
  mlp.push_back<nn::Tanh>();
  nn::Linear& last = mlp.push_back(std::make_unique<nn::Linear>(4, 2, nn::LayerOptions{.dtype = DType::f64}, gen));
  CHECK(mlp.size() == 3);
  CHECK(mlp.type_name() == "Sequential");
  std::vector<std::string> names;
  for (const auto& [name, p] : mlp.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(&mlp.at<nn::Linear>(0) == &first);
  CHECK(&mlp[2] == &last);

  const Tensor x = randn({5, 3}, {.dtype = DType::f64}, gen);
  const Tensor expected = last(tanh(first(x)));
  check_values(mlp(x), expected.to_vector<double>());
  check_gradcheck(tg::gradcheck([&](const Inputs& in) { return mlp(in[0]); },
                                {randn({2, 3}, {.dtype = DType::f64}, gen).requires_grad_()}));
  // Sequentials nest, and an empty one is the identity.
  nn::Sequential outer;
  outer.push_back<nn::Sequential>();
  outer.push_back<nn::ReLU>();
  check_values(outer(tensor({-1.0, 2.0}, {}, {.dtype = tg::DType::f64})), {0.0, 2.0});
  CHECK_THROWS_WITH_AS(mlp[3], doctest::Contains("index 3 is out of range for 3 layers"), tg::Error);
  CHECK_THROWS_WITH_AS(mlp.at<nn::Linear>(1), doctest::Contains("layer 1 is a Tanh"), tg::Error);
  static_assert(nn::UnaryLayer<nn::Linear> && nn::UnaryLayer<nn::Dropout> && nn::UnaryLayer<nn::Sequential>);
  static_assert(!nn::UnaryLayer<nn::GRU>);  // two outputs: not a layer of a Sequential
}

namespace factory {
// A model made by a function: modules cannot move, so it comes back in a unique_ptr.
struct Classifier : tg::nn::Module {
  tg::nn::Embedding embed;
  tg::nn::Sequential head;
  Classifier(int64_t vocab, int64_t dim, tg::Generator& gen) : embed(vocab, dim, gen) {
    head.push_back<tg::nn::Linear>(dim, dim, gen);
    head.push_back<tg::nn::ReLU>();
    head.push_back<tg::nn::Linear>(dim, 2, gen);
    register_module("embed", embed);
    register_module("head", head);
  }
  tg::Tensor forward(const tg::Tensor& tokens) const { return head(embed(tokens)); }
};

std::unique_ptr<Classifier> make_classifier(uint64_t seed) {
  tg::Generator gen(seed);
  return std::make_unique<Classifier>(10, 6, gen);
}
}  // namespace factory

TEST_CASE("models returned by unique_ptr: in a vector, trained, saved and loaded") {
  using namespace tg;
  std::vector<std::unique_ptr<factory::Classifier>> models;
  for (uint64_t seed : {1, 2}) models.push_back(factory::make_classifier(seed));
  nn::Module* first = models[0].get();
  models.push_back(factory::make_classifier(3));  // the vector grows; the models stay put
  CHECK(models[0].get() == first);
  CHECK(models[0]->named_parameters()[0].second.is_same(models[0]->embed.weight));

  // An optimizer takes the parameters of *models[0] like those of any module.
  optim::Adam adam(models[0]->named_parameters(), {.lr = 0.05});
  const Tensor tokens = index_tensor({1, 4, 7, 2});
  const Tensor targets = index_tensor({0, 1, 1, 0});
  const std::vector<float> before = models[0]->head.at<nn::Linear>(2).weight.to_vector<float>();
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 30; ++step) {
    const Tensor loss = cross_entropy(models[0]->forward(tokens), targets);
    loss.backward();
    adam.step();
    adam.zero_grad();
    (step == 0 ? first_loss : last_loss) = loss.item();
  }
  CHECK(last_loss < first_loss);
  CHECK(models[0]->head.at<nn::Linear>(2).weight.to_vector<float>() != before);  // updated in place

  // Save the trained model; load into a fresh factory-made one (other seed).
  const std::string path = (std::filesystem::temp_directory_path() /
                            fmt::format("tapegrad_test_factory_{}.safetensors", ::getpid()))
                               .string();
  train::save(*models[0], adam, path, {{"note", "factory"}});
  std::unique_ptr<factory::Classifier> fresh = factory::make_classifier(99);
  optim::Adam fresh_adam(fresh->named_parameters(), {.lr = 0.05});
  CHECK(fresh->embed.weight.to_vector<float>() != models[0]->embed.weight.to_vector<float>());
  const nn::Metadata meta = train::load(*fresh, fresh_adam, path);
  std::filesystem::remove(path);
  CHECK(meta.at("note") == "factory");
  const auto saved = models[0]->named_parameters(), loaded = fresh->named_parameters();
  REQUIRE(saved.size() == loaded.size());
  for (size_t i = 0; i < saved.size(); ++i) {
    INFO(saved[i].first);
    CHECK(saved[i].first == loaded[i].first);
    CHECK(saved[i].second.to_vector<float>() == loaded[i].second.to_vector<float>());  // bit-identical
  }
  CHECK(fresh_adam.param_state(0).step == 30);
  NoGrad no_grad;
  CHECK(fresh->forward(tokens).to_vector<float>() == models[0]->forward(tokens).to_vector<float>());
}
