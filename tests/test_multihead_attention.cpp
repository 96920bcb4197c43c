// nn::MultiheadAttention and scaled_dot_product_attention against
// PyTorch in float64 (tests/fixtures/make_attention_block_fixtures.py ->
// attention_blocks.txt): outputs, attention weights and gradients to 1e-12
// with PyTorch's parameters loaded by their names; gradchecks; errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Tensor;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("attention_blocks.txt");
  return loaded;
}

Tensor input(const std::string& name, bool requires_grad = false) {
  return fixture_tensor(fixture(), name, DType::f64, requires_grad);
}
bool has(const std::string& name) { return fixture().count(name) > 0; }

void check_close(const Tensor& got, const std::string& name) { check_fixture_close(fixture(), got, name); }

struct Case {
  const char* name;
  int64_t E, H;
  tg::nn::MultiheadAttentionOptions options;
  bool need_weights = true, average = true;
};

void check_mha(const Case& c) {
  CAPTURE(c.name);
  const std::string n = c.name;
  tg::nn::MultiheadAttentionOptions options = c.options;
  options.dtype = DType::f64;
  tg::nn::MultiheadAttention mha(c.E, c.H, options);
  {
    tg::NoGrad no_grad;
    for (auto& [pname, p] : mha.named_parameters()) p.copy_(input(n + "." + pname));  // PyTorch's names
  }
  mha.eval();
  const Tensor q = input(n + ".q", true);
  tg::nn::AttentionMasks masks{.need_weights = c.need_weights, .average_attn_weights = c.average};
  if (has(n + ".key_padding_mask")) masks.key_padding_mask = input(n + ".key_padding_mask").to(DType::boolean);
  if (has(n + ".attn_mask")) {
    masks.attn_mask = input(n + ".attn_mask");
    if (n == "causal") masks.attn_mask = masks.attn_mask.to(DType::boolean);
  }
  const tg::nn::MultiheadAttentionOutput out = mha(q, input(n + ".k"), input(n + ".v"), masks);
  check_close(out.output, n + ".out");
  if (c.need_weights) check_close(out.weights, n + ".weights");
  else CHECK_FALSE(out.weights.defined());
  tg::sum(out.output * input(n + ".w")).backward();
  check_close(q.grad(), n + ".grad.q");
  const Tensor projected = mha.in_proj_weight.defined() ? mha.in_proj_weight : mha.q_proj_weight;
  check_close(projected.grad(), n + (mha.in_proj_weight.defined() ? ".grad.in_proj_weight" : ".grad.q_proj_weight"));
}

}  // namespace

TEST_CASE("nn::MultiheadAttention equals torch.nn.MultiheadAttention: outputs, weights and gradients") {
  check_mha({"self", 8, 2, {}});
  check_mha({"padded", 8, 2, {}});
  check_mha({"causal", 8, 4, {}});
  check_mha({"float_mask", 8, 2, {}});
  check_mha({"kv_dims", 6, 3, {.kdim = 4, .vdim = 7}});
  check_mha({"batch_first_heads", 8, 2, {.batch_first = true}, true, false});
  check_mha({"no_bias", 4, 1, {.bias = false}, false});
}

TEST_CASE("MultiheadAttention: PyTorch's parameter names, is_causal, unbatched input, errors") {
  tg::nn::MultiheadAttention mha(8, 2);
  std::vector<std::string> names;
  for (const auto& [name, p] : mha.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"});
  const Tensor x = tg::randn({5, 2, 8});
  const Tensor causal = tg::triu(tg::ones({5, 5}), 1).to(DType::boolean);
  const auto with_mask = mha(x, x, x, {.attn_mask = causal});
  const auto with_flag = mha(x, x, x, {.is_causal = true});
  CHECK(with_mask.output.to_vector<float>() == with_flag.output.to_vector<float>());
  const auto one = mha(tg::select(x, 1, 0), tg::select(x, 1, 0), tg::select(x, 1, 0));  // unbatched (L, E)
  CHECK(one.output.shape() == tg::Shape{5, 8});
  CHECK(one.output.to_vector<float>() == tg::select(mha(x, x, x).output, 1, 0).contiguous().to_vector<float>());
  CHECK_THROWS_WITH_AS(tg::nn::MultiheadAttention(10, 3), doctest::Contains("embed_dim 10 must be divisible by num_heads 3"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, {.key_padding_mask = tg::ones({2, 5})}),
                       doctest::Contains("key_padding_mask must be bool (2, 5) (true = ignore that key), got float32"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(mha(x, x, x, {.attn_mask = tg::zeros({4, 5})}),
                       doctest::Contains("attn_mask must be (L, S) = (5, 5) or (N·H, L, S), got (4, 5)"), tg::Error);
}

TEST_CASE("scaled_dot_product_attention equals its definition (softmax(q kᵀ/√E + mask) v), values and gradients") {
  const Tensor k = input("sdpa.k"), v = input("sdpa.v");
  const Tensor allowed = input("sdpa.allowed").to(DType::boolean);  // true = takes part, as PyTorch's SDPA
  struct {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
  } cases[] = {
      {"plain", [&](const Tensor& q) { return tg::scaled_dot_product_attention(q, k, v); }},
      {"masked", [&](const Tensor& q) { return tg::scaled_dot_product_attention(q, k, v, allowed); }},
      {"causal", [&](const Tensor& q) {
         return tg::scaled_dot_product_attention(q, tg::slice(k, 2, 0, 4), tg::slice(v, 2, 0, 4), {}, true);
       }},
  };
  for (const auto& c : cases) {
    const std::string n = std::string("sdpa.") + c.name;
    const Tensor q = input("sdpa.q", true);
    const Tensor out = c.f(q);
    check_close(out, n + ".out");
    tg::sum(out * input(n + ".w")).backward();
    check_close(q.grad(), n + ".grad");
  }
  tg::Generator gen(5);
  const Tensor q = tg::randn({2, 3, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor kk = tg::randn({2, 5, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor vv = tg::randn({2, 5, 3}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const tg::GradcheckResult r = tg::gradcheck(
      [](const std::vector<Tensor>& in) { return tg::scaled_dot_product_attention(in[0], in[1], in[2]); }, {q, kk, vv});
  CHECK_MESSAGE(r.ok, r.message);
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, tg::ones({2, 5, 3}, {DType::f64}), vv),
                       doctest::Contains("must share their last size E"), tg::Error);
}

TEST_CASE("MultiheadAttention: float64 gradcheck through every parameter") {
  tg::Generator gen(8);
  tg::nn::MultiheadAttention mha(4, 2, {.kdim = 3, .vdim = 5, .dtype = DType::f64}, gen);
  const Tensor q = tg::randn({3, 2, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor k = tg::randn({4, 2, 3}, {.dtype = DType::f64}, gen), v = tg::randn({4, 2, 5}, {.dtype = DType::f64}, gen);
  const tg::GradcheckResult r = tg::gradcheck(
      [&](const std::vector<Tensor>& in) { return mha(in[0], k, v, {.need_weights = false}).output; }, {q});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("fused attention: the same as the composed form with masks, causal and dropout; cpu = reference; when it runs") {
  tg::Generator gen(31);
  const int64_t L = 5, S = 7, N = 3, E = 8, H = 2;
  tg::nn::MultiheadAttention mha(E, H, {.dropout = 0.3, .dtype = DType::f64}, gen);
  const Tensor q = tg::randn({L, N, E}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor kv = tg::randn({S, N, E}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor pad = tg::gt(tg::tensor(std::vector<double>{0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0},
                                       tg::Shape{N, S}),
                            0.5);
  const Tensor float_mask = tg::randn({L, S}, {.dtype = DType::f64}, gen);
  const Tensor w = tg::randn({L, N, E}, {.dtype = DType::f64}, gen);
  // need_weights = true takes the composed path, false the fused one; the same reseed gives the same dropout masks.
  auto run = [&](bool composed, const tg::nn::AttentionMasks& masks, tg::Backend& backend) {
    tg::HostBackendScope scope(backend);
    tg::AttentionPathScope path(composed ? tg::AttentionPath::composed : tg::AttentionPath::fused);
    for (const Tensor* t : {&q, &kv}) t->set_grad(Tensor());
    mha.zero_grad();
    mha.reseed(5);
    tg::nn::AttentionMasks m = masks;
    m.need_weights = composed;
    tg::Tape tape;
    tg::TapeScope tape_scope(tape);
    const Tensor out = mha(q, kv, kv, m).output;
    const size_t saved = tape.saved_bytes();
    tg::sum(out * w).backward();
    return std::make_pair(saved, std::vector<std::vector<double>>{out.to_vector<double>(), q.grad().to_vector<double>(),
                                                                  kv.grad().to_vector<double>(),
                                                                  mha.in_proj_weight.grad().to_vector<double>()});
  };
  const tg::nn::AttentionMasks cases[] = {
      {.key_padding_mask = pad},
      {.attn_mask = float_mask},
      {.key_padding_mask = pad, .attn_mask = tg::gt(float_mask, 1.0)},
  };
  for (bool training : {false, true}) {
    mha.train(training);
    for (const tg::nn::AttentionMasks& masks : cases) {
      CAPTURE(training);
      const auto [composed_saved, composed] = run(true, masks, tg::cpu_backend());
      const auto [fused_saved, fused] = run(false, masks, tg::cpu_backend());
      const auto [reference_saved, reference] = run(false, masks, tg::reference_backend());
      for (size_t i = 0; i < fused.size(); ++i)
        for (size_t j = 0; j < fused[i].size(); ++j) {
          CHECK(fused[i][j] == doctest::Approx(composed[i][j]).epsilon(1e-12));
          CHECK(fused[i][j] == doctest::Approx(reference[i][j]).epsilon(1e-12));
        }
      CHECK(fused_saved > 0);
      CHECK(composed_saved > 0);
    }
  }
  // The rule: fused where the (L, S) weights outweigh the copies of q, k, v and the output.
  CHECK_FALSE(tg::detail::fused_attention_pays(30, 30, 64, 64));
  CHECK(tg::detail::fused_attention_pays(1000, 1000, 64, 64));
  {
    const int64_t T = 300;  // long: the weights of 4 heads (4·300·300) outweigh q, k, v, out (4·4·300·16)
    tg::nn::MultiheadAttention long_mha(64, 4);
    const Tensor x = tg::randn({T, 1, 64}, {.requires_grad = true});
    size_t saved[2];
    for (int composed = 0; composed < 2; ++composed) {
      tg::AttentionPathScope path(composed ? tg::AttentionPath::composed : tg::AttentionPath::automatic);
      tg::Tape tape;
      tg::TapeScope tape_scope(tape);
      const Tensor out = long_mha(x, x, x, {.need_weights = false}).output;  // held: the tape keeps its graph
      saved[composed] = tape.saved_bytes();
    }
    CHECK(saved[0] < saved[1]);  // automatic chose fused, and it keeps less
  }
  // Causal self-attention, the gradcheck of the fused path in training (dropout drawn again from its key).
  mha.train();
  const Tensor x = tg::randn({4, 2, E}, {.dtype = DType::f64, .requires_grad = true}, gen);
  tg::AttentionPathScope fused(tg::AttentionPath::fused);
  const tg::GradcheckResult r = tg::gradcheck(
      [&](const std::vector<Tensor>& in) {
        mha.reseed(9);
        return mha(in[0], in[0], in[0], {.need_weights = false, .is_causal = true}).output;
      },
      {x});
  CHECK_MESSAGE(r.ok, r.message);
}
