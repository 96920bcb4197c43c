// Attention modules: additive (Bahdanau) and multiplicative (Luong, dot and
// general). Forward values and gradients against PyTorch fixtures
// (tests/fixtures/make_attention_fixtures.py), a hand-worked case, float64
// gradient checks with a padding mask, the masking and key-reuse guarantees a
// decoder relies on, and the error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/reference/reference_backend.h"
#include "tapegrad.h"
#include "test_support.h"

namespace {

using test_support::load_parameters;
using test_support::check_gradcheck;
using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::nn::AdditiveAttention;
using tg::nn::Attention;
using tg::nn::AttentionResult;
using tg::nn::LuongAttention;
using tg::nn::LuongScore;
using Inputs = std::vector<Tensor>;

using test_support::Fixture;
using test_support::FixtureTensor;
using test_support::entry;
using test_support::fixture_tensor;
using test_support::load_fixture;

// Mask stored as 0/1 -> bool, true = valid.
Tensor fixture_mask(const Fixture& fixture) { return tg::ne(fixture_tensor(fixture, "mask", DType::f64), 0.0); }

// |got - expected| <= tol (1 + |expected|) elementwise.
void check_close(const Tensor& got, const FixtureTensor& expected, double tol, const std::string& what) {
  INFO(what);
  REQUIRE(got.defined());
  REQUIRE(got.shape() == expected.shape);
  const std::vector<double> g = got.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i)
    CHECK_MESSAGE(std::abs(g[i] - expected.values[i]) <= tol * (1 + std::abs(expected.values[i])),
                  "element " << i << ": got " << g[i] << ", expected " << expected.values[i]);
}

// Runs `attention` (dtype `dtype`) on the fixture's inputs and compares the
// context, the weights, and the gradients of
//   L = Σ context ⊙ loss_context + Σ weights ⊙ loss_weights
// with respect to the query, the keys and every parameter.
void check_against_fixture(const Attention& attention, const Fixture& fixture, DType dtype, double tol) {
  load_parameters(attention, fixture);
  const Tensor query = fixture_tensor(fixture, "query", dtype, true);
  const Tensor keys = fixture_tensor(fixture, "keys", dtype, true);
  const AttentionResult r = attention(query, keys, fixture_mask(fixture));
  check_close(r.context, entry(fixture, "context"), tol, "context");
  check_close(r.weights, entry(fixture, "weights"), tol, "weights");

  const Tensor loss = tg::sum(r.context * fixture_tensor(fixture, "loss_context", dtype)) +
                      tg::sum(r.weights * fixture_tensor(fixture, "loss_weights", dtype));
  loss.backward();
  check_close(query.grad(), entry(fixture, "grad.query"), tol, "grad.query");
  check_close(keys.grad(), entry(fixture, "grad.keys"), tol, "grad.keys");
  int64_t parameter_grads = 0;
  for (const auto& [name, p] : attention.named_parameters()) {
    check_close(p.grad(), entry(fixture, "grad." + name), tol, "grad." + name);
    ++parameter_grads;
  }
  // The fixture holds no parameter the module lacks: grad.query, grad.keys + one per parameter.
  int64_t fixture_grads = 0;
  for (const auto& [name, t] : fixture) fixture_grads += name.rfind("grad.", 0) == 0 ? 1 : 0;
  CHECK(fixture_grads == parameter_grads + 2);
}

// Runs `body` with the cpu backend, then with the reference backend.
void on_both_backends(const std::function<void()>& body) {
  for (tg::Backend* backend : {&tg::cpu_backend(), &tg::reference_backend()}) {
    INFO("host backend: " << backend->name());
    tg::HostBackendScope scope(*backend);
    body();
  }
}

tg::TensorOptions f64_grad() { return {DType::f64, tg::Device::cpu(), true}; }

// (B, S) bool mask, true at the first lengths[b] positions of row b.
Tensor length_mask(const std::vector<int64_t>& lengths, int64_t source) {
  std::vector<double> v;
  for (int64_t len : lengths)
    for (int64_t j = 0; j < source; ++j) v.push_back(j < len ? 1.0 : 0.0);
  return tg::ne(tg::tensor(v, Shape{static_cast<int64_t>(lengths.size()), source}), 0.0);
}

void check_grad(const Attention& attention, const Tensor& query, const Tensor& keys, const Tensor& mask) {
  Inputs inputs{query, keys};
  for (const Tensor& p : attention.parameters()) inputs.push_back(p);
  // Both outputs matter: the gradcheck weights every element of the result.
  const auto f = [&](const Inputs& in) {
    const AttentionResult r = attention(in[0], in[1], mask);
    return tg::concat({r.context, r.weights}, 1);
  };
  check_gradcheck(f, inputs);
}

std::vector<std::string> parameter_names(const tg::nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
  return names;
}

// A decoder-like owner, to see the dotted names an attention child gets.
struct Owner : tg::nn::Module {
  AdditiveAttention attention;
  explicit Owner(tg::Generator& gen) : attention(3, 5, 4, DType::f32, gen) { register_module("attention", attention); }
};

}  // namespace

// ---------------------------------------------------------------------------
// structure

TEST_CASE("AdditiveAttention: parameters, names and shapes") {
  tg::Generator gen(1);
  const AdditiveAttention att(3, 5, 4, DType::f32, gen);
  CHECK(parameter_names(att) ==
        std::vector<std::string>{"query_proj.weight", "key_proj.weight", "key_proj.bias", "v.weight"});
  CHECK(att.query_proj.weight.shape() == Shape{4, 3});
  CHECK_FALSE(att.query_proj.bias.defined());
  CHECK(att.key_proj.weight.shape() == Shape{4, 5});
  CHECK(att.key_proj.bias.shape() == Shape{4});
  CHECK(att.v.weight.shape() == Shape{1, 4});
  CHECK_FALSE(att.v.bias.defined());
  CHECK(att.parameter_count() == 12 + 20 + 4 + 4);
  CHECK(att.type_name() == "AdditiveAttention");
  CHECK(att.query_size() == 3);
  CHECK(att.key_size() == 5);
  CHECK(att.projected_size() == 4);

  Owner owner(gen);
  CHECK(parameter_names(owner) == std::vector<std::string>{"attention.query_proj.weight", "attention.key_proj.weight",
                                                           "attention.key_proj.bias", "attention.v.weight"});
}

TEST_CASE("LuongAttention: dot has no parameters, general has proj (Qd, Kd)") {
  tg::Generator gen(2);
  const LuongAttention dot(4, 4, LuongScore::dot, DType::f32, gen);
  CHECK(dot.parameter_count() == 0);
  CHECK_FALSE(dot.proj.has_value());
  CHECK(dot.projected_size() == 4);
  const LuongAttention general(3, 5, LuongScore::general, DType::f64, gen);
  CHECK(parameter_names(general) == std::vector<std::string>{"proj.weight"});
  REQUIRE(general.proj.has_value());
  CHECK(general.proj->weight.shape() == Shape{3, 5});
  CHECK(general.proj->weight.dtype() == DType::f64);
  CHECK_FALSE(general.proj->bias.defined());
  CHECK(general.projected_size() == 3);
  CHECK(general.type_name() == "LuongAttention");
}

// ---------------------------------------------------------------------------
// values and gradients against PyTorch

TEST_CASE("AdditiveAttention matches PyTorch: context, weights and gradients") {
  const Fixture fixture = load_fixture("attention_additive.txt");
  on_both_backends([&] {
    tg::Generator gen(3);
    SUBCASE("float32") {
      const AdditiveAttention att(3, 5, 4, DType::f32, gen);
      check_against_fixture(att, fixture, DType::f32, 1e-5);
    }
    SUBCASE("float64") {
      const AdditiveAttention att(3, 5, 4, DType::f64, gen);
      check_against_fixture(att, fixture, DType::f64, 1e-10);
    }
  });
}

TEST_CASE("LuongAttention (general) matches PyTorch") {
  const Fixture fixture = load_fixture("attention_luong_general.txt");
  tg::Generator gen(4);
  const LuongAttention att32(3, 5, LuongScore::general, DType::f32, gen);
  check_against_fixture(att32, fixture, DType::f32, 1e-5);
  const LuongAttention att64(3, 5, LuongScore::general, DType::f64, gen);
  check_against_fixture(att64, fixture, DType::f64, 1e-10);
}

TEST_CASE("LuongAttention (dot) matches PyTorch") {
  const Fixture fixture = load_fixture("attention_luong_dot.txt");
  const LuongAttention att32(4, 4, LuongScore::dot, DType::f32);
  check_against_fixture(att32, fixture, DType::f32, 1e-5);
  const LuongAttention att64(4, 4, LuongScore::dot, DType::f64);
  check_against_fixture(att64, fixture, DType::f64, 1e-10);
}

TEST_CASE("LuongAttention (dot): a case worked by hand") {
  // keys h_0 = (1, 0), h_1 = (0, 1), h_2 = (5, 5) padded; query s = (2, 0)
  // scores (2, 0, masked) -> α = (e², 1, 0) / (e² + 1); context = α_0 h_0 + α_1 h_1
  const LuongAttention att(2, 2, LuongScore::dot, DType::f64);
  const Tensor keys = tg::tensor({1.0, 0.0, 0.0, 1.0, 5.0, 5.0}, Shape{1, 3, 2}, {.dtype = tg::DType::f64});
  const Tensor query = tg::tensor({2.0, 0.0}, Shape{1, 2}, {.dtype = tg::DType::f64});
  const AttentionResult r = att(query, keys, length_mask({2}, 3));
  const double a0 = std::exp(2.0) / (std::exp(2.0) + 1), a1 = 1 / (std::exp(2.0) + 1);
  CHECK(r.weights.shape() == Shape{1, 3});
  CHECK(r.weights.at({0, 0}) == doctest::Approx(a0).epsilon(1e-12));
  CHECK(r.weights.at({0, 1}) == doctest::Approx(a1).epsilon(1e-12));
  CHECK(r.weights.at({0, 2}) == 0.0);
  CHECK(r.context.shape() == Shape{1, 2});
  CHECK(r.context.at({0, 0}) == doctest::Approx(a0).epsilon(1e-12));
  CHECK(r.context.at({0, 1}) == doctest::Approx(a1).epsilon(1e-12));
}

// ---------------------------------------------------------------------------
// float64 gradient checks over inputs and parameters, with padding

TEST_CASE("AdditiveAttention: float64 gradcheck over query, keys and parameters") {
  tg::Generator gen(5);
  const AdditiveAttention att(3, 4, 5, DType::f64, gen);
  const Tensor query = tg::randn({3, 3}, f64_grad(), gen);
  const Tensor keys = tg::randn({3, 4, 4}, f64_grad(), gen);
  SUBCASE("with padding") { check_grad(att, query, keys, length_mask({4, 2, 1}, 4)); }
  SUBCASE("no mask") { check_grad(att, query, keys, Tensor()); }
}

TEST_CASE("LuongAttention: float64 gradcheck, dot and general") {
  tg::Generator gen(6);
  const Tensor keys = tg::randn({3, 4, 4}, f64_grad(), gen);
  const Tensor mask = length_mask({4, 3, 1}, 4);
  SUBCASE("dot") {
    const LuongAttention att(4, 4, LuongScore::dot, DType::f64, gen);
    const Tensor query = tg::randn({3, 4}, f64_grad(), gen);
    check_grad(att, query, keys, mask);
    check_grad(att, query, keys, Tensor());
  }
  SUBCASE("general") {
    const LuongAttention att(2, 4, LuongScore::general, DType::f64, gen);
    const Tensor query = tg::randn({3, 2}, f64_grad(), gen);
    check_grad(att, query, keys, mask);
    check_grad(att, query, keys, Tensor());
  }
}

// ---------------------------------------------------------------------------
// what a decoder relies on

TEST_CASE("attention weights: rows sum to 1, padded positions get exactly 0 and no gradient") {
  tg::Generator gen(7);
  const AdditiveAttention additive(6, 8, 5, DType::f32, gen);
  const LuongAttention general(6, 8, LuongScore::general, DType::f32, gen);
  const LuongAttention dot(8, 8, LuongScore::dot, DType::f32, gen);
  const std::vector<int64_t> lengths{7, 3, 1, 5};
  const Tensor mask = length_mask(lengths, 7);
  for (const Attention* att : {static_cast<const Attention*>(&additive), static_cast<const Attention*>(&general),
                               static_cast<const Attention*>(&dot)}) {
    INFO(att->type_name() << " projected_size " << att->projected_size());
    const Tensor query = tg::randn({4, att->query_size()}, {}, gen).requires_grad_();
    // Large keys make large scores: the softmax must stay finite.
    const Tensor keys = (tg::randn({4, 7, 8}, {}, gen) * 30.0).detach().requires_grad_();
    const AttentionResult r = (*att)(query, keys, mask);
    REQUIRE(r.weights.shape() == Shape{4, 7});
    REQUIRE(r.context.shape() == Shape{4, 8});
    for (int64_t b = 0; b < 4; ++b) {
      double row = 0;
      for (int64_t j = 0; j < 7; ++j) {
        const double w = r.weights.at({b, j});
        CHECK(std::isfinite(w));
        if (j >= lengths[b])
          CHECK_MESSAGE(w == 0.0, "b=" << b << " j=" << j);
        else
          CHECK(w >= 0.0);
        row += w;
      }
      CHECK(row == doctest::Approx(1.0).epsilon(1e-6));
    }
    // A length-1 row puts all its weight on position 0: its context is h_0.
    for (int64_t k = 0; k < 8; ++k) CHECK(r.context.at({2, k}) == doctest::Approx(keys.at({2, 0, k})).epsilon(1e-5));

    tg::sum(r.context * r.context).backward();
    const Tensor dkeys = keys.grad();
    REQUIRE(dkeys.defined());
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t j = lengths[b]; j < 7; ++j)
        for (int64_t k = 0; k < 8; ++k) CHECK(dkeys.at({b, j, k}) == 0.0);
    for (double g : query.grad().to_vector<double>()) CHECK(std::isfinite(g));
  }
}

TEST_CASE("attention: changing padded keys changes nothing; no mask equals an all-true mask") {
  tg::Generator gen(8);
  const AdditiveAttention att(3, 4, 5, DType::f64, gen);
  const Tensor query = tg::randn({2, 3}, {DType::f64}, gen);
  std::vector<double> k = tg::randn({2, 3, 4}, {DType::f64}, gen).to_vector<double>();
  const Tensor mask = length_mask({3, 2}, 3);
  const AttentionResult a = att(query, tg::tensor(k, Shape{2, 3, 4}), mask);
  for (int i = 0; i < 4; ++i) k[(1 * 3 + 2) * 4 + i] = 100.0 + i;  // row 1, padded position 2
  const AttentionResult b = att(query, tg::tensor(k, Shape{2, 3, 4}), mask);
  CHECK(a.context.to_vector<double>() == b.context.to_vector<double>());
  CHECK(a.weights.to_vector<double>() == b.weights.to_vector<double>());

  const Tensor keys = tg::tensor(k, Shape{2, 3, 4});
  const AttentionResult unmasked = att(query, keys, Tensor());
  const AttentionResult all_true = att(query, keys, length_mask({3, 3}, 3));
  CHECK(unmasked.context.to_vector<double>() == all_true.context.to_vector<double>());
  CHECK(unmasked.weights.to_vector<double>() == all_true.weights.to_vector<double>());
  CHECK(unmasked.weights.at({1, 2}) > 0.0);  // the "padded" key counts when unmasked
}

TEST_CASE("attention: projected keys computed once give what the convenience overload gives") {
  tg::Generator gen(9);
  const AdditiveAttention additive(3, 4, 5, DType::f32, gen);
  const LuongAttention general(3, 4, LuongScore::general, DType::f32, gen);
  const LuongAttention dot(4, 4, LuongScore::dot, DType::f32, gen);
  const Tensor mask = length_mask({4, 2}, 4);
  for (const Attention* att : {static_cast<const Attention*>(&additive), static_cast<const Attention*>(&general),
                               static_cast<const Attention*>(&dot)}) {
    INFO(att->type_name());
    const Tensor keys = tg::randn({2, 4, 4}, {}, gen);
    const Tensor projected = att->project_keys(keys);
    CHECK(projected.shape() == Shape{2, 4, att->projected_size()});
    // Three decoder steps, each with its own query, reusing the projection.
    for (int step = 0; step < 3; ++step) {
      const Tensor query = tg::randn({2, att->query_size()}, {}, gen);
      const AttentionResult reused = att->forward(query, keys, projected, mask);
      const AttentionResult fresh = att->forward(query, keys, mask);
      CHECK(reused.context.to_vector<float>() == fresh.context.to_vector<float>());
      CHECK(reused.weights.to_vector<float>() == fresh.weights.to_vector<float>());
    }
  }
  // Dot scores use the keys themselves.
  const Tensor keys = tg::randn({2, 4, 4}, {}, gen);
  CHECK(dot.project_keys(keys).to_vector<float>() == keys.to_vector<float>());
  // Additive attention from a query projected elsewhere (int8 decoding projects it with int8 weights).
  const Tensor query = tg::randn({2, 3}, {}, gen);
  const AttentionResult direct = additive.forward(query, keys, additive.project_keys(keys), mask);
  const AttentionResult projected =
      additive.forward_projected(additive.query_proj(query), keys, additive.project_keys(keys), mask);
  CHECK(projected.context.to_vector<float>() == direct.context.to_vector<float>());
  CHECK(projected.weights.to_vector<float>() == direct.weights.to_vector<float>());
  CHECK_THROWS_WITH_AS(additive.forward_projected(query, keys, additive.project_keys(keys), mask),
                       "AdditiveAttention: projected_query must be (2, 5) for keys (2, 4, 4), got (2, 3)", tg::Error);
}

TEST_CASE("AdditiveAttention: gradients through reused projected keys add up over decoder steps") {
  tg::Generator gen(10);
  AdditiveAttention att(3, 4, 5, DType::f64, gen);
  const Tensor keys = tg::randn({2, 4, 4}, f64_grad(), gen);
  const Tensor mask = length_mask({4, 3}, 4);
  const Tensor q0 = tg::randn({2, 3}, {DType::f64}, gen), q1 = tg::randn({2, 3}, {DType::f64}, gen);

  // Reused: one projection, two steps, one backward.
  const Tensor projected = att.project_keys(keys);
  tg::Tensor loss = tg::sum(att(q0, keys, projected, mask).context) + tg::sum(att(q1, keys, projected, mask).context);
  loss.backward();
  const std::vector<double> reused_w = att.key_proj.weight.grad().to_vector<double>();
  const std::vector<double> reused_keys = keys.grad().to_vector<double>();

  // Fresh: each step projects on its own, backward per step accumulates.
  att.zero_grad();
  keys.set_grad(Tensor());
  tg::sum(att(q0, keys, mask).context).backward();
  tg::sum(att(q1, keys, mask).context).backward();
  const std::vector<double> fresh_w = att.key_proj.weight.grad().to_vector<double>();
  const std::vector<double> fresh_keys = keys.grad().to_vector<double>();
  REQUIRE(reused_w.size() == fresh_w.size());
  for (size_t i = 0; i < fresh_w.size(); ++i) CHECK(reused_w[i] == doctest::Approx(fresh_w[i]).epsilon(1e-12));
  for (size_t i = 0; i < fresh_keys.size(); ++i) CHECK(reused_keys[i] == doctest::Approx(fresh_keys[i]).epsilon(1e-12));
}

// ---------------------------------------------------------------------------
// errors

TEST_CASE("AdditiveAttention: bad shapes, dtypes and masks are rejected with what was expected and got") {
  tg::Generator gen(11);
  const AdditiveAttention att(8, 32, 10, DType::f32, gen);
  const Tensor keys = tg::randn({4, 7, 32}, {}, gen);
  const Tensor query = tg::randn({4, 8}, {}, gen);
  const Tensor mask = length_mask({7, 7, 7, 7}, 7);
  using doctest::Contains;

  CHECK_THROWS_WITH_AS(att(query, tg::randn({4, 7, 16}, {}, gen)),
                       Contains("AdditiveAttention: keys (4, 7, 16) but key_size is 32"), tg::Error);
  CHECK_THROWS_WITH_AS(att.project_keys(tg::randn({4, 7, 16}, {}, gen)),
                       Contains("AdditiveAttention: keys (4, 7, 16) but key_size is 32"), tg::Error);
  CHECK_THROWS_WITH_AS(att(query, tg::randn({7, 32}, {}, gen)),
                       Contains("AdditiveAttention: keys must be (batch, source, 32), got (7, 32)"), tg::Error);
  CHECK_THROWS_WITH_AS(att(tg::randn({4, 1, 8}, {}, gen), keys),
                       Contains("AdditiveAttention: query must be (batch, 8), got (4, 1, 8)"), tg::Error);
  CHECK_THROWS_WITH_AS(att(tg::randn({4, 6}, {}, gen), keys),
                       Contains("AdditiveAttention: query (4, 6) but query_size is 8"), tg::Error);
  CHECK_THROWS_WITH_AS(att(tg::randn({3, 8}, {}, gen), keys),
                       Contains("AdditiveAttention: query (3, 8) and keys (4, 7, 32) have different batch sizes"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(att(query.to(DType::f64), keys),
                       Contains("AdditiveAttention: query is float64 but the module is float32"), tg::Error);
  CHECK_THROWS_WITH_AS(att(query, keys.to(DType::f64)),
                       Contains("AdditiveAttention: keys are float64 but the module is float32"), tg::Error);
  CHECK_THROWS_WITH_AS(
      att(query, keys, tg::randn({4, 7, 32}, {}, gen), mask),
      Contains("AdditiveAttention: projected_keys must be (4, 7, 10) (project_keys of keys (4, 7, 32)), "
               "got (4, 7, 32)"),
      tg::Error);
  CHECK_THROWS_WITH_AS(att(query, keys, tg::ones({4, 7})),
                       Contains("AdditiveAttention: mask must be bool (true = valid position), got float32 (4, 7)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(att(query, keys, length_mask({7, 7, 7}, 7)),
                       Contains("AdditiveAttention: mask must be (4, 7) for keys (4, 7, 32), got (3, 7)"), tg::Error);
  CHECK_THROWS_WITH_AS(att(query, keys, length_mask({7, 0, 7, 7}, 7)),
                       Contains("AdditiveAttention: mask row 1 has no valid position (the mask is true at valid "
                                "positions, false at padding)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(att(query, Tensor()), Contains("keys"), tg::Error);
  CHECK_NOTHROW(att(query, keys, mask));
  // The mask is read once per mask tensor (a decoder passes the same one at every step): checking `mask` again
  // is skipped, and another tensor is still checked after it.
  CHECK_NOTHROW(att(query, keys, mask));
  CHECK_THROWS_WITH_AS(att(query, keys, length_mask({7, 7, 0, 7}, 7)), Contains("mask row 2 has no valid position"),
                       tg::Error);

  CHECK_THROWS_WITH_AS(
      AdditiveAttention(8, 32, 0),
      Contains("AdditiveAttention: sizes must be positive, got query_size=8 key_size=32 attention_size=0"), tg::Error);
  CHECK_THROWS_WITH_AS(AdditiveAttention(8, 32, 4, DType::i64), Contains("dtype must be float32 or float64, got int64"),
                       tg::Error);
}

TEST_CASE("LuongAttention: dot needs equal sizes; inputs are checked like additive attention") {
  using doctest::Contains;
  CHECK_THROWS_WITH_AS(
      LuongAttention(6, 4, LuongScore::dot),
      Contains("LuongAttention: the dot score needs query_size == key_size, got query_size=6 key_size=4"), tg::Error);
  CHECK_THROWS_WITH_AS(LuongAttention(0, 4, LuongScore::general),
                       Contains("LuongAttention: sizes must be positive, got query_size=0 key_size=4"), tg::Error);
  CHECK_NOTHROW(LuongAttention(6, 4, LuongScore::general));

  tg::Generator gen(12);
  const LuongAttention general(6, 4, LuongScore::general, DType::f32, gen);
  const Tensor keys = tg::randn({2, 5, 4}, {}, gen);
  CHECK_THROWS_WITH_AS(general(tg::randn({2, 4}, {}, gen), keys),
                       Contains("LuongAttention: query (2, 4) but query_size is 6"), tg::Error);
  CHECK_THROWS_WITH_AS(general(tg::randn({2, 6}, {}, gen), tg::randn({2, 5, 6}, {}, gen)),
                       Contains("LuongAttention: keys (2, 5, 6) but key_size is 4"), tg::Error);
  // Projected keys of the wrong kind (the raw keys passed to a general score).
  CHECK_THROWS_WITH_AS(
      general(tg::randn({2, 6}, {}, gen), keys, keys, Tensor()),
      Contains("LuongAttention: projected_keys must be (2, 5, 6) (project_keys of keys (2, 5, 4)), got (2, 5, 4)"),
      tg::Error);
  CHECK_THROWS_WITH_AS(general(tg::randn({2, 6}, {}, gen), keys, length_mask({0, 5}, 5)),
                       Contains("LuongAttention: mask row 0 has no valid position"), tg::Error);
}

// ---------------------------------------------------------------------------
// the fused score op of AdditiveAttention (ops/additive_score.h)

namespace {
// The same score written with separate ops: Σ_a v_a tanh(keys + query)  (B, S)
Tensor composed_additive_score(const Tensor& keys, const Tensor& query, const Tensor& v) {
  return tg::sum(tg::tanh(keys + tg::unsqueeze(query, 1)) * v, {2});
}
}  // namespace

TEST_CASE("additive_score: fused values and gradients equal the composed ops, on both host backends") {
  using test_support::max_abs_diff;
  for (const char* backend : {"cpu", "reference"}) {
    CAPTURE(backend);
    tg::HostBackendScope scope(std::string_view(backend) == "cpu" ? tg::cpu_backend() : tg::reference_backend());
    tg::Generator gen(12);
    const int64_t B = 3, S = 5, A = 9;
    // keys as a transposed view (S, B, A) -> (B, S, A): strided rows.
    const Tensor keys_sba = tg::randn({S, B, A}, f64_grad(), gen);
    const Tensor query = tg::randn({B, A}, f64_grad(), gen), v = tg::randn({A}, f64_grad(), gen);
    const Tensor seed = tg::randn({B, S}, {DType::f64}, gen);
    std::vector<std::vector<double>> grads[2];
    Tensor values[2];
    for (int k = 0; k < 2; ++k) {
      for (const Tensor* t : {&keys_sba, &query, &v}) t->set_grad(Tensor());
      const Tensor keys = tg::transpose(keys_sba, 0, 1);
      // Two decoder steps on the same keys, one backward: their gradients add up in one buffer.
      Tensor loss = tg::zeros({}, {DType::f64});
      for (int step = 0; step < 2; ++step) {
        const Tensor q = step == 0 ? query : query * 0.5;
        values[k] = k == 0 ? tg::additive_score(keys, q, v) : composed_additive_score(keys, q, v);
        loss = loss + tg::sum(values[k] * seed);
      }
      loss.backward();
      for (const Tensor* t : {&keys_sba, &query, &v}) grads[k].push_back(t->grad().to_vector<double>());
    }
    CHECK(max_abs_diff(values[0], values[1]) < 1e-13);
    for (size_t t = 0; t < 3; ++t) CHECK(max_abs_diff(grads[0][t], grads[1][t]) < 1e-12);

    check_gradcheck([](const Inputs& x) { return tg::additive_score(x[0], x[1], x[2]); },
                    {tg::randn({2, 4, 6}, f64_grad(), gen), tg::randn({2, 6}, f64_grad(), gen),
                     tg::randn({6}, f64_grad(), gen)});
    // An input without gradient: only the others receive one.
    const Tensor fixed_keys = tg::randn({2, 3, 4}, {DType::f64}, gen);
    const Tensor q = tg::randn({2, 4}, f64_grad(), gen), w = tg::randn({4}, f64_grad(), gen);
    tg::sum(tg::additive_score(fixed_keys, q, w)).backward();
    CHECK(!fixed_keys.grad().defined());
    CHECK(q.grad().defined());
    CHECK(w.grad().defined());
  }
}

TEST_CASE("additive_score: float32 on cpu matches the reference backend, vector lengths not a multiple of 8") {
  tg::Generator gen(4);
  const Tensor keys = tg::normal({4, 11, 37}, 0, 2, {DType::f32}, gen).requires_grad_();
  const Tensor query = tg::normal({4, 37}, 0, 2, {DType::f32}, gen).requires_grad_();
  const Tensor v = tg::normal({37}, 0, 1, {DType::f32}, gen).requires_grad_();
  const Tensor seed = tg::normal({4, 11}, 0, 1, {DType::f32}, gen);
  std::vector<std::vector<float>> results[2];
  for (int k = 0; k < 2; ++k) {
    tg::HostBackendScope scope(k == 0 ? tg::cpu_backend() : tg::reference_backend());
    for (const Tensor* t : {&keys, &query, &v}) t->set_grad(Tensor());
    const Tensor score = tg::additive_score(keys, query, v);
    score.backward(seed);
    results[k] = {score.to_vector<float>(), keys.grad().to_vector<float>(), query.grad().to_vector<float>(),
                  v.grad().to_vector<float>()};
  }
  for (size_t r = 0; r < 4; ++r) {
    CAPTURE(r);
    for (size_t i = 0; i < results[0][r].size(); ++i)
      CHECK(results[0][r][i] == doctest::Approx(results[1][r][i]).epsilon(1e-4).scale(1));
  }
}

TEST_CASE("additive_score: wrong shapes and dtypes name what was expected and got") {
  const Tensor keys = tg::zeros({2, 3, 4}), query = tg::zeros({2, 4}), v = tg::zeros({4});
  CHECK_THROWS_WITH_AS(tg::additive_score(tg::zeros({2, 4}), query, v),
                       doctest::Contains("keys must be (B, S, A), got (2, 4)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::additive_score(keys, tg::zeros({3, 4}), v),
                       doctest::Contains("query must be (B, A) = (2, 4) for keys (2, 3, 4), got (3, 4)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::additive_score(keys, query, tg::zeros({1, 4})),
                       doctest::Contains("v must be (A,) = (4,) for keys (2, 3, 4), got (1, 4)"), tg::Error);
  CHECK_THROWS_AS(tg::additive_score(keys, query.to(DType::f64), v), tg::Error);
}
