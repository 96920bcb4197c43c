// Decoding with int8 weights and int8 checkpoints (apps/translate/int8_checkpoint.h,
// tg::quantize_to_grid): the per-row grid is a fixed point of quantizing; an
// int8 checkpoint of every model kind loads to the weights --quantize int8
// decodes with, bit for bit, and decodes to the same tokens; its files are
// refused where they cannot serve, naming the file.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "apps/translate/average.h"
#include "apps/translate/int8_checkpoint.h"
#include "apps/translate/search.h"
#include "io/safetensors.h"
#include "kernels/int8_linear/int8_linear.h"
#include "tapegrad.h"
#include "test_support.h"
#include "translation_helpers.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::translate::Translator;
using namespace translation_helpers;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tapegrad_int8_checkpoint_" + name)).string();
}

Translator translator_of(const ModelConfig& config, uint64_t seed) {
  Translator t;
  t.info.config = config;
  t.info.src_vocab = vocab_of_size(config.src_vocab, "s");
  t.info.tgt_vocab = vocab_of_size(config.tgt_vocab, "t");
  t.model = tg::translate::make_model(config, seed);
  t.model->eval();
  return t;
}

doctest::Contains contains(const std::string& text) { return doctest::Contains(doctest::String(text.c_str())); }

bool same_bits(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](float u, float v) {
           return std::memcmp(&u, &v, sizeof u) == 0;
         });
}

}  // namespace

TEST_CASE("quantize_to_grid: codes within one step of W, the grid a fixed point of every quantizer") {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  std::lognormal_distribution<float> magnitude(0, 3);
  const int64_t N = 6000, K = 24;
  std::vector<float> values(N * K);
  for (int64_t j = 0; j < N; ++j) {
    const float row_scale = magnitude(rng);  // scales over many binades
    for (int64_t k = 0; k < K; ++k) values[j * K + k] = row_scale * u(rng);
  }
  for (int64_t k = 0; k < K; ++k) values[3 * K + k] = 0;  // a zero row
  const Tensor w = tg::tensor(values, Shape{N, K});
  const tg::Int8Grid grid = tg::quantize_to_grid(w);
  REQUIRE(grid.codes.dtype() == DType::i8);
  REQUIRE(grid.codes.shape() == Shape{N, K});
  REQUIRE(grid.scales.shape() == Shape{N});
  const std::vector<int8_t> codes = grid.codes.to_vector<int8_t>();
  const std::vector<float> scales = grid.scales.to_vector<float>();
  int64_t off = 0;
  for (int64_t j = 0; j < N; ++j) {
    float largest = 0;
    for (int64_t k = 0; k < K; ++k) largest = std::max(largest, std::abs(values[j * K + k]));
    CHECK(scales[j] == (j == 3 ? 1.0f : largest / 127.0f));
    for (int64_t k = 0; k < K; ++k)
      off += std::abs(values[j * K + k] / scales[j] - codes[j * K + k]) > 0.5f + 1e-4f || codes[j * K + k] == -128;
  }
  CHECK(off == 0);
  CHECK(scales[3] == 1.0f);
  // W' = q · s quantized again, by the grid and by the int8 product's own quantizer: the same codes and scales.
  const Tensor w_grid = tg::dequantize(grid);
  const tg::Int8Grid again = tg::quantize_to_grid(w_grid);
  CHECK(again.codes.to_vector<int8_t>() == codes);
  CHECK(again.scales.to_vector<float>() == scales);
  const tg::Int8Linear layer = tg::Int8Linear::quantize(w_grid);
  int64_t code_mismatches = 0;
  for (int64_t j = 0; j < N; ++j) {
    CHECK(layer.weight().scales[j] == scales[j]);
    for (int64_t k = 0; k < K; ++k) code_mismatches += layer.weight().code(j, k) != codes[j * K + k];
  }
  CHECK(code_mismatches == 0);
  CHECK(same_bits(tg::dequantize(again), w_grid));
}

TEST_CASE("the grid's scale is a fixed point for every float largest magnitude from 2^-67 to 2^72") {
  // A one-value row m has scale s = fl(m / 127) and code 127; dequantized it is fl(127 s), whose scale must be s.
  // Every 61st mantissa here; every one, once, by hand.
  int64_t checked = 0, moved = 0;
  int8_t code = 0;
  for (uint32_t exponent = 60; exponent < 200; ++exponent)
    for (uint32_t mantissa = 0; mantissa < (1u << 23); mantissa += 61) {
      const uint32_t bits = exponent << 23 | mantissa;
      float m = 0;
      std::memcpy(&m, &bits, sizeof m);
      const float s = tg::kernels::quantize_row(&m, 1, &code);
      const float dequantized = static_cast<float>(code) * s;
      moved += tg::kernels::quantize_row(&dequantized, 1, &code) != s || code != 127;
      ++checked;
    }
  MESSAGE(checked << " magnitudes checked");
  CHECK(moved == 0);
}

TEST_CASE("quantize_to_grid and dequantize: errors name what was expected and what was got") {
  CHECK_THROWS_WITH_AS(tg::quantize_to_grid(tg::zeros({3})), "quantize_to_grid: expected a float32 matrix (N, K), got float32 (3,)",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::quantize_to_grid(tg::tensor({1.0f, NAN}, {1, 2})),
                       "quantize_to_grid: weight[0, 1] is nan: only finite weights can be quantized", tg::Error);
  const Tensor codes = tg::from_vector(std::vector<int8_t>{1, -128}, Shape{1, 2}, {DType::i8});
  CHECK_THROWS_WITH_AS(tg::dequantize({codes, tg::ones({1})}, "w"), "w: code [0, 1] is -128, expected [-127, 127]",
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::dequantize({codes, tg::ones({2})}, "w"),
                       "w: expected float32 scales (1) for codes (1, 2), got float32 (2,)", tg::Error);
  CHECK_THROWS_WITH_AS(tg::dequantize({codes.to(DType::f32), tg::ones({1})}, "w"),
                       "w: expected int8 codes (N, K), got float32 (1, 2)", tg::Error);
  const Tensor good = tg::from_vector(std::vector<int8_t>{1, 2}, Shape{1, 2}, {DType::i8});
  CHECK_THROWS_WITH_AS(tg::dequantize({good, tg::zeros({1})}, "w"), "w: scale 0 is 0, expected a finite positive number",
                       tg::Error);
}

TEST_CASE("int8 checkpoints: every model kind loads to --quantize int8's weights bit for bit and decodes the same") {
  struct Case {
    const char* kind;
    bool tied;
    const char* cell = "gru";
  };
  const int64_t V_src = 23, V = 29;
  const Batch batch = batch_of(random_examples(5, V_src, V, 6, 7, 4));
  for (const Case c : {Case{"cho", false}, Case{"bahdanau", false}, Case{"bahdanau", true}, Case{"cho", false, "lstm"},
                       Case{"bahdanau", true, "lstm"}, Case{"transformer", true}, Case{"transformer", false}}) {
    CAPTURE(c.kind);
    CAPTURE(c.tied);
    CAPTURE(c.cell);
    ModelConfig config = config_of(c.kind, V_src, V, 16, 24, 0.0);
    config.tie_embeddings = c.tied;
    config.cell = c.cell;
    Translator reference = translator_of(config, 11);
    const std::string path = temp_path(std::string(c.kind) + c.cell + (c.tied ? "_tied" : "") + ".safetensors");
    tg::translate::save_int8_checkpoint(path, reference);
    // The file: I8 codes and float32 scales for every matrix, float32 for the rest.
    const tg::SafetensorsContents file = tg::load_safetensors(path);
    CHECK(file.metadata.at("translate.weights") == "int8");
    int64_t int8_tensors = 0, matrices = 0;
    for (const auto& [name, p] : reference.model->named_parameters()) {
      const Tensor* t = file.find(name);
      REQUIRE(t != nullptr);
      if (p.ndim() == 2) {
        ++matrices;
        int8_tensors += t->dtype() == DType::i8 && file.find(name + tg::translate::kInt8ScaleSuffix) != nullptr;
      } else {
        CHECK(t->dtype() == DType::f32);
      }
    }
    CHECK(int8_tensors == matrices);

    tg::translate::decode_with_int8_weights(reference);
    Translator loaded = tg::translate::load_translator(path);
    CHECK(loaded.info.weights == "int8");
    CHECK(loaded.model->quantized_for_decoding());
    const auto expected = reference.model->named_parameters();
    const auto got = loaded.model->named_parameters();
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(got[i].first);
      CHECK(same_bits(got[i].second, expected[i].second));
    }
    tg::translate::decode_with_int8_weights(reference);  // a second time: nothing moves
    for (size_t i = 0; i < got.size(); ++i) CHECK(same_bits(got[i].second, reference.model->named_parameters()[i].second));

    const auto greedy = [&](Translator& t) {
      return tg::translate::greedy_decode(*t.model, batch.src, batch.src_lengths, batch.src_mask, 8);
    };
    const auto beam = [&](Translator& t) {
      return tg::translate::beam_search(*t.model, batch.src, batch.src_lengths, batch.src_mask, 3, 8);
    };
    const auto g_ref = greedy(reference), g_got = greedy(loaded), b_ref = beam(reference), b_got = beam(loaded);
    for (size_t b = 0; b < g_ref.size(); ++b) {
      CHECK(g_got[b].tokens == g_ref[b].tokens);
      CHECK(g_got[b].log_prob == g_ref[b].log_prob);
      CHECK(b_got[b].tokens == b_ref[b].tokens);
      CHECK(b_got[b].log_prob == b_ref[b].log_prob);
    }
    std::filesystem::remove(path);
  }
}

TEST_CASE("int8 checkpoints: refused for training, averaging, a GPU and a second quantization; damaged files named") {
  ModelConfig config = config_of("bahdanau", 23, 29, 16, 24, 0.0);
  config.tie_embeddings = false;
  const Translator translator = translator_of(config, 3);
  const std::string path = temp_path("refusals.safetensors");
  tg::translate::save_int8_checkpoint(path, translator);
  const tg::translate::CheckpointInfo info = tg::translate::read_checkpoint_info(path);
  CHECK(info.weights == "int8");
  CHECK_THROWS_WITH_AS(tg::translate::refuse_int8_checkpoint(info, path, "resume training from"),
                       contains("cannot resume training from '" + path + "': it holds int8 weights"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::translate::average_checkpoints({path, path}, temp_path("avg.safetensors")),
                       contains("cannot average '" + path + "'"), tg::Error);
  const Translator loaded = tg::translate::load_translator(path);
  CHECK_THROWS_WITH_AS(tg::translate::save_int8_checkpoint(temp_path("twice.safetensors"), loaded),
                       "translate quantize: the model already has int8 weights", tg::Error);
  CHECK_THROWS_WITH_AS(tg::translate::load_translator(path, tg::Device::cuda(0)),
                       doctest::Contains("holds int8 weights, which decode on the cpu only"), tg::Error);

  // Codes without their scales, and scales without codes.
  tg::SafetensorsContents file = tg::load_safetensors(path);
  tg::NamedTensors without_scale, stray_scale;
  for (const auto& [name, t] : file.tensors)
    if (name != "decoder.out.weight.int8_scale") without_scale.emplace_back(name, t);
  const std::string damaged = temp_path("damaged.safetensors");
  tg::save_safetensors(damaged, without_scale, file.metadata);
  CHECK_THROWS_WITH_AS(tg::translate::load_translator(damaged),
                       doctest::Contains("int8 tensor 'decoder.out.weight' has no scales 'decoder.out.weight.int8_scale'"),
                       tg::Error);
  stray_scale = file.tensors;
  stray_scale.emplace_back("nothing.int8_scale", tg::ones({29}));
  tg::save_safetensors(damaged, stray_scale, file.metadata);
  CHECK_THROWS_WITH_AS(tg::translate::load_translator(damaged),
                       doctest::Contains("scales 'nothing.int8_scale' belong to no int8 tensor 'nothing'"),
                       tg::Error);
  file.metadata["translate.weights"] = "int4";
  tg::save_safetensors(damaged, file.tensors, file.metadata);
  CHECK_THROWS_WITH_AS(tg::translate::read_checkpoint_info(damaged),
                       doctest::Contains("metadata 'translate.weights' is 'int4', expected float32 or int8"), tg::Error);
  std::filesystem::remove(path);
  std::filesystem::remove(damaged);
}
