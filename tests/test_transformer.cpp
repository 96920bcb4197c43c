// nn::TransformerEncoderLayer, TransformerDecoderLayer and nn::Transformer
// against PyTorch in float64 (tests/fixtures/make_transformer_fixtures.py
// -> transformer_blocks.txt): PyTorch's parameters loaded by their names,
// outputs and gradients to 1e-12, relu/gelu, norm_first both ways, padding and
// causal masks; square_subsequent_mask and sinusoidal_positions; gradchecks; errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "test_support.h"

using namespace test_support;
using tg::DType;
using tg::Tensor;
using tg::nn::LayerMasks;

namespace {

const Fixture& fixture() {
  static const Fixture loaded = load_fixture("transformer_blocks.txt");
  return loaded;
}

Tensor input(const std::string& name, bool requires_grad = false) {
  return fixture_tensor(fixture(), name, DType::f64, requires_grad);
}
Tensor bool_input(const std::string& name) { return input(name).to(DType::boolean); }

void check_close(const Tensor& got, const std::string& name) { check_fixture_close(fixture(), got, name); }

// Copies PyTorch's parameters in by name: every one of ours must be in the fixture.
void load_by_name(const tg::nn::Module& module, const std::string& prefix) {
  tg::NoGrad no_grad;
  for (auto& [name, p] : module.named_parameters()) p.copy_(input(prefix + "." + name));
}

// The gradients the fixture holds for a module's parameters (linear1.weight, self_attn.in_proj_weight).
void check_parameter_grads(const tg::nn::Module& module, const std::string& prefix) {
  int checked = 0;
  for (auto& [name, p] : module.named_parameters())
    if (fixture().count(prefix + ".grad." + name)) {
      check_close(p.grad(), prefix + ".grad." + name);
      ++checked;
    }
  CHECK(checked >= 2);
}

tg::nn::TransformerLayerOptions layer_options(int64_t ff, bool batch_first, bool norm_first, const char* activation) {
  return {.dim_feedforward = ff,
          .dropout = 0,
          .activation = activation,
          .batch_first = batch_first,
          .norm_first = norm_first,
          .dtype = DType::f64};
}

}  // namespace

TEST_CASE("TransformerEncoderLayer equals PyTorch's: post-norm relu with padding, norm_first gelu causal batch_first") {
  struct Case {
    const char* name;
    int64_t E, H, F;
    bool batch_first, norm_first;
    const char* activation;
  };
  for (const Case& c : {Case{"enc_post_relu", 8, 2, 16, false, false, "relu"},
                        Case{"enc_pre_gelu", 8, 4, 12, true, true, "gelu"}}) {
    CAPTURE(c.name);
    const std::string n = c.name;
    tg::nn::TransformerEncoderLayer layer(c.E, c.H, layer_options(c.F, c.batch_first, c.norm_first, c.activation));
    load_by_name(layer, n);
    const Tensor src = input(n + ".src", true);
    LayerMasks mask;
    if (fixture().count(n + ".src_key_padding_mask")) mask.key_padding_mask = bool_input(n + ".src_key_padding_mask");
    else mask.is_causal = true;
    const Tensor out = layer(src, mask);
    check_close(out, n + ".out");
    tg::sum(out * input(n + ".w")).backward();
    check_close(src.grad(), n + ".grad.src");
    check_parameter_grads(layer, n);
  }
}

TEST_CASE("TransformerDecoderLayer equals PyTorch's: causal self-attention, memory and target padding, both norms") {
  struct Case {
    const char* name;
    int64_t E, H, F;
    bool batch_first, norm_first;
    const char* activation;
  };
  for (const Case& c : {Case{"dec_post_relu", 8, 2, 16, false, false, "relu"},
                        Case{"dec_pre_gelu", 6, 3, 10, true, true, "gelu"}}) {
    CAPTURE(c.name);
    const std::string n = c.name;
    tg::nn::TransformerDecoderLayer layer(c.E, c.H, layer_options(c.F, c.batch_first, c.norm_first, c.activation));
    load_by_name(layer, n);
    const Tensor tgt = input(n + ".tgt", true), memory = input(n + ".memory", true);
    LayerMasks self{.is_causal = true}, cross;
    if (fixture().count(n + ".tgt_key_padding_mask")) self.key_padding_mask = bool_input(n + ".tgt_key_padding_mask");
    if (fixture().count(n + ".memory_key_padding_mask"))
      cross.key_padding_mask = bool_input(n + ".memory_key_padding_mask");
    const Tensor out = layer(tgt, memory, self, cross);
    check_close(out, n + ".out");
    tg::sum(out * input(n + ".w")).backward();
    check_close(tgt.grad(), n + ".grad.tgt");
    check_close(memory.grad(), n + ".grad.memory");
    check_parameter_grads(layer, n);
  }
}

TEST_CASE("nn::Transformer equals torch.nn.Transformer: names, masks, output and gradients, on both attention paths") {
  for (tg::AttentionPath path : {tg::AttentionPath::composed, tg::AttentionPath::fused}) {
    CAPTURE(static_cast<int>(path));
    tg::AttentionPathScope scope(path);
    tg::nn::Transformer model({.d_model = 8,
                               .nhead = 2,
                               .num_encoder_layers = 2,
                               .num_decoder_layers = 2,
                               .layer = layer_options(16, false, false, "relu")});
    int64_t parameters = 0;
    for (const auto& named : model.named_parameters()) {  // no structured binding: clang 14 cannot capture one
      const std::string& name = named.first;
      CAPTURE(name);
      CHECK(fixture().count("transformer." + name) == 1);  // every name is PyTorch's
      ++parameters;
  }
  CHECK(parameters == 2 * 12 + 2 * 18 + 4);  // encoder layers, decoder layers, two final norms
  load_by_name(model, "transformer");
  const Tensor src = input("transformer.src", true), tgt = input("transformer.tgt", true);
  const Tensor pad = bool_input("transformer.src_key_padding_mask");
  const Tensor out = model(src, tgt, {.key_padding_mask = pad},
                           {.attn_mask = tg::nn::square_subsequent_mask(4, {DType::f64})}, {.key_padding_mask = pad});
  check_close(out, "transformer.out");
  tg::sum(out * input("transformer.w")).backward();
  check_close(src.grad(), "transformer.grad.src");
  check_close(tgt.grad(), "transformer.grad.tgt");
  check_parameter_grads(model, "transformer");
  }
}

TEST_CASE("square_subsequent_mask and sinusoidal_positions equal PyTorch's") {
  const Tensor mask = tg::nn::square_subsequent_mask(4, {DType::f64});
  CHECK(std::isinf(mask.at({0, 1})));
  CHECK(mask.at({0, 1}) < 0);
  check_close(tg::clamp(mask, -1.0, 0.0), "square_mask");
  check_close(tg::nn::sinusoidal_positions(7, 6, {DType::f64}), "positions_7x6");
  CHECK(tg::nn::sinusoidal_positions(3, 4).dtype() == DType::f32);
  CHECK_THROWS_WITH_AS(tg::nn::sinusoidal_positions(0, 4), doctest::Contains("length and dim must be positive"),
                       tg::Error);
}

TEST_CASE("Transformer layers: float64 gradchecks, dropout in training only, errors") {
  tg::Generator gen(11);
  auto options = layer_options(6, false, true, "gelu");
  tg::nn::TransformerEncoderLayer encoder(4, 2, options, gen);
  tg::nn::TransformerDecoderLayer decoder(4, 2, layer_options(6, true, false, "relu"), gen);
  const Tensor x = tg::randn({3, 2, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor memory = tg::randn({2, 5, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  const Tensor y = tg::randn({2, 3, 4}, {.dtype = DType::f64, .requires_grad = true}, gen);
  tg::GradcheckResult r = tg::gradcheck([&](const std::vector<Tensor>& in) { return encoder(in[0], {.is_causal = true}); }, {x});
  CHECK_MESSAGE(r.ok, r.message);
  r = tg::gradcheck([&](const std::vector<Tensor>& in) { return decoder(in[0], in[1], {.is_causal = true}); },
                    {y, memory});
  CHECK_MESSAGE(r.ok, r.message);

  options.dropout = 0.5;
  tg::nn::TransformerEncoderLayer dropping(4, 2, options, gen);
  dropping.eval();
  const Tensor a = dropping(x), b = dropping(x);
  CHECK(a.to_vector<double>() == b.to_vector<double>());  // evaluation: no dropout
  dropping.train();
  CHECK(dropping(x).to_vector<double>() != a.to_vector<double>());

  CHECK_THROWS_WITH_AS(tg::nn::TransformerEncoderLayer(4, 2, {.activation = "tanh"}),
                       doctest::Contains("activation must be \"relu\" or \"gelu\", got \"tanh\""), tg::Error);
  CHECK_THROWS_WITH_AS(tg::nn::TransformerEncoder(4, 2, 0), doctest::Contains("num_layers must be positive, got 0"),
                       tg::Error);
  tg::nn::Transformer model({.d_model = 4, .nhead = 2, .num_encoder_layers = 1, .num_decoder_layers = 1,
                             .layer = {.dim_feedforward = 8}});
  CHECK_THROWS_WITH_AS(model(tg::randn({3, 2, 4}), tg::randn({3, 5, 4})),
                       doctest::Contains("src (3, 2, 4) and tgt (3, 5, 4) must have the same batch size (axis 1)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(model(tg::randn({3, 2, 6}), tg::randn({3, 2, 6})), doctest::Contains("must end in d_model 4"),
                       tg::Error);
}
