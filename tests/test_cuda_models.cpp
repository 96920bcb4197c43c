// Modules, Adam and the translation models on the GPU against the same ones
// on the cpu. Each module is built twice from one seed; one twin moves to the
// GPU with Module::to. Forward values and every gradient (parameters and
// inputs) must agree, relative to the largest value of each tensor:
//   float64  1e-10        float32  1e-4
// (float32: CUDA's tanh/exp and cuBLAS's summation order differ from the
// host's in the last bits, and a recurrence of a few steps carries that on).
// Then: Adam steps on both devices move the parameters alike; a few training
// steps on real Multi30k pairs lower the loss on the GPU; a translation
// checkpoint written from the GPU loads on the cpu (and one written on the cpu
// loads on the GPU) and gives the same logits.
//
// Without a usable GPU the program prints "SKIP: <reason>" and exits with 77.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>  // getpid

#include "apps/translate/models/bahdanau_model.h"
#include "apps/translate/models/cho_model.h"
#include "apps/translate/models/seq2seq.h"
#include "cuda_test_main.h"
#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"
#include "translation_helpers.h"
#include "apps/translate/translation_checkpoint.h"

namespace {

using tg::DType;
using tg::Shape;
using tg::Tensor;
using tg::text::Batch;
using tg::text::Example;
using tg::text::Vocab;
using tg::translate::ModelConfig;
using tg::translate::Seq2Seq;
using namespace translation_helpers;

const tg::Device kGpu = tg::Device::cuda(0);
constexpr DType kDTypes[] = {DType::f64, DType::f32};
const std::vector<std::string> kKinds = {"cho", "bahdanau"};

double tolerance(DType dtype) { return dtype == DType::f64 ? 1e-10 : 1e-4; }

// max |got - want| <= tol · max(1, max |want|); both undefined also matches.
void check_equal(const Tensor& got, const Tensor& want, const std::string& what, double tol) {
  INFO(what);
  REQUIRE(got.defined() == want.defined());
  if (!want.defined()) return;
  REQUIRE(got.shape() == want.shape());
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  double worst = 0, scale = 1;
  for (size_t i = 0; i < w.size(); ++i) {
    scale = std::max(scale, std::abs(w[i]));
    worst = std::max(worst, std::abs(g[i] - w[i]));
  }
  INFO("max |gpu - cpu| = ", worst, " at scale ", scale);
  CHECK(worst <= tol * scale);
}

// The same module twice from one seed: `cpu` stays, `gpu` is moved to the GPU.
template <typename M>
struct Twins {
  std::unique_ptr<M> cpu, gpu;
};

// Two modules made by make(gen) from generators with the same seed; the second moved to the GPU.
template <typename M, typename Make>
Twins<M> twins_from(uint64_t seed, Make make) {
  tg::Generator gen_cpu(seed), gen_gpu(seed);
  Twins<M> t{make(gen_cpu), make(gen_gpu)};
  t.gpu->to(kGpu);
  CHECK(t.gpu->device() == (t.gpu->parameters().empty() ? tg::Device::cpu() : kGpu));
  return t;
}

// M(args..., dtype, gen)
template <typename M, typename... Args>
Twins<M> twins(uint64_t seed, DType dtype, const Args&... args) {
  return twins_from<M>(seed, [&](tg::Generator& gen) { return std::make_unique<M>(args..., dtype, gen); });
}

// M(args..., LayerOptions{.dtype = dtype}, gen): Linear and the cells.
template <typename M, typename... Args>
Twins<M> layer_twins(uint64_t seed, DType dtype, const Args&... args) {
  return twins_from<M>(
      seed, [&](tg::Generator& gen) { return std::make_unique<M>(args..., tg::nn::LayerOptions{.dtype = dtype}, gen); });
}

// Both modules have the same parameters, the GPU's on the GPU, with the same
// values and (after a backward) the same gradients.
void check_parameters(const tg::nn::Module& cpu, const tg::nn::Module& gpu, double tol) {
  const auto c = cpu.named_parameters(), g = gpu.named_parameters();
  REQUIRE(c.size() == g.size());
  for (size_t i = 0; i < c.size(); ++i) {
    CAPTURE(c[i].first);
    CHECK(g[i].first == c[i].first);
    CHECK(g[i].second.device() == kGpu);
    check_equal(g[i].second, c[i].second, "value", tol);
    check_equal(g[i].second.grad(), c[i].second.grad(), "gradient", tol);
  }
}

// An input on both devices: a random leaf that requires grad (floats) or a
// constant (indices, masks), and its copy on the GPU.
struct Input {
  Tensor cpu, gpu;
};
Input random_input(const Shape& shape, DType dtype, tg::Generator& gen) {
  Input in{tg::randn(shape, {dtype}, gen), Tensor()};
  in.gpu = in.cpu.to(kGpu);
  in.cpu.requires_grad_();
  in.gpu.requires_grad_();
  return in;
}
Input constant_input(const Tensor& t) { return {t, t.to(kGpu)}; }

// Σ out ⊙ w for a fixed random w (the same on both devices): a loss to which
// every output element contributes.
Tensor weighted_sum(const Tensor& out, uint64_t seed) {
  tg::Generator gen(seed);
  return tg::sum(out * tg::randn(out.shape(), {out.dtype()}, gen).to(out.device()));
}

template <typename M>
using Forward = std::function<std::vector<Tensor>(const M&, const std::vector<Tensor>&)>;

// Runs `forward` on both twins with the same inputs: the outputs agree; then
// the same weighted loss of all outputs goes backward on both, and every
// parameter's and input's gradient agrees.
template <typename M>
void check_twins(const Twins<M>& m, const std::vector<Input>& inputs, const Forward<M>& forward, DType dtype) {
  const double tol = tolerance(dtype);
  std::vector<Tensor> in_cpu, in_gpu;
  for (const Input& in : inputs) in_cpu.push_back(in.cpu), in_gpu.push_back(in.gpu);
  const std::vector<Tensor> out_cpu = forward(*m.cpu, in_cpu), out_gpu = forward(*m.gpu, in_gpu);
  REQUIRE(out_cpu.size() == out_gpu.size());
  Tensor loss_cpu = tg::zeros({}, {dtype}), loss_gpu = tg::zeros({}, {dtype, kGpu});
  for (size_t k = 0; k < out_cpu.size(); ++k) {
    CHECK(out_gpu[k].device() == kGpu);
    check_equal(out_gpu[k], out_cpu[k], fmt::format("output {}", k), tol);
    loss_cpu = loss_cpu + weighted_sum(out_cpu[k], k);
    loss_gpu = loss_gpu + weighted_sum(out_gpu[k], k);
  }
  loss_cpu.backward();
  loss_gpu.backward();
  check_parameters(*m.cpu, *m.gpu, tol);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].cpu.requires_grad())
      check_equal(inputs[i].gpu.grad(), inputs[i].cpu.grad(), fmt::format("gradient of input {}", i), tol);
}

// (B, S) bool, true at the first lengths[b] positions of row b.
Tensor length_mask(const std::vector<int64_t>& lengths, int64_t positions) {
  std::vector<double> valid;
  for (int64_t length : lengths)
    for (int64_t j = 0; j < positions; ++j) valid.push_back(j < length ? 1 : 0);
  return tg::ne(tg::from_vector(valid, Shape{int64_t(lengths.size()), positions}, {DType::f64}), 0.0);
}

// ---------------------------------------------------------------------------
// translation models

// A file in the temporary directory, removed when the scope ends.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name)
      : path((std::filesystem::temp_directory_path() / fmt::format("tapegrad_cuda_{}_{}", name, ::getpid())).string()) {}
  ~TempFile() { std::filesystem::remove(path); }
};

// A small model made of two Linear layers, for the optimizer test.
struct Mlp : tg::nn::Module {
  tg::nn::Linear first, second;
  Mlp(DType dtype, tg::Generator& gen) : first(6, 8, {.dtype = dtype}, gen), second(8, 3, {.dtype = dtype}, gen) {
    register_module("first", first);
    register_module("second", second);
  }
  Tensor forward(const Tensor& x) const { return second(tg::tanh(first(x))); }
};

}  // namespace

// ---------------------------------------------------------------------------
// layers

TEST_CASE("Linear: values and gradients, batched input") {
  for (DType dtype : kDTypes) {
    CAPTURE(tg::dtype_name(dtype));
    const auto m = layer_twins<tg::nn::Linear>(1, dtype, int64_t(7), int64_t(5));
    tg::Generator gen(2);
    check_twins<tg::nn::Linear>(m, {random_input({3, 4, 7}, dtype, gen)},
                                [](const tg::nn::Linear& l, const std::vector<Tensor>& in) {
                                  return std::vector<Tensor>{l(in[0])};
                                },
                                dtype);
  }
}

TEST_CASE("Embedding: repeated ids and a padding row") {
  for (DType dtype : kDTypes) {
    CAPTURE(tg::dtype_name(dtype));
    const auto m = twins<tg::nn::Embedding>(3, dtype, int64_t(11), int64_t(6), int64_t(0));
    const Tensor ids = tg::index_tensor({4, 0, 4, 10, 1, 0, 4, 7, 7, 2, 3, 4, 0, 9, 5}, {3, 5});
    check_twins<tg::nn::Embedding>(m, {constant_input(ids)},
                                   [](const tg::nn::Embedding& e, const std::vector<Tensor>& in) {
                                     return std::vector<Tensor>{e(in[0])};
                                   },
                                   dtype);
  }
}

TEST_CASE("GRUCell: one step, gradients of the parameters, x and h") {
  for (DType dtype : kDTypes) {
    CAPTURE(tg::dtype_name(dtype));
    const auto m = layer_twins<tg::nn::GRUCell>(4, dtype, int64_t(5), int64_t(7));
    tg::Generator gen(5);
    check_twins<tg::nn::GRUCell>(m, {random_input({4, 5}, dtype, gen), random_input({4, 7}, dtype, gen)},
                                 [](const tg::nn::GRUCell& cell, const std::vector<Tensor>& in) {
                                   // Two steps, so that the second reads the first's state.
                                   const Tensor h1 = cell(in[0], in[1]);
                                   return std::vector<Tensor>{h1, cell(in[0] * 0.5, h1)};
                                 },
                                 dtype);
  }
}

TEST_CASE("GRU: 2 layers, bidirectional, a padded batch with lengths, h0 given") {
  tg::nn::GRUOptions options;
  options.num_layers = 2;
  options.bidirectional = true;
  const Tensor lengths = tg::index_tensor({7, 3, 5, 1});  // on the host, as text::Batch keeps them
  for (DType dtype : kDTypes) {
    CAPTURE(tg::dtype_name(dtype));
    const auto m = twins<tg::nn::GRU>(6, dtype, int64_t(5), int64_t(6), options);
    tg::Generator gen(7);
    check_twins<tg::nn::GRU>(m, {random_input({7, 4, 5}, dtype, gen), random_input({4, 4, 6}, dtype, gen)},
                             [&](const tg::nn::GRU& gru, const std::vector<Tensor>& in) {
                               const tg::nn::GRUOutput out = gru(in[0], in[1], lengths);
                               return std::vector<Tensor>{out.output, out.h_n};
                             },
                             dtype);
  }
}

TEST_CASE("AdditiveAttention: context, weights and gradients with a padding mask") {
  const Tensor mask = length_mask({4, 2, 3}, 4);
  for (DType dtype : kDTypes) {
    CAPTURE(tg::dtype_name(dtype));
    const auto m = twins<tg::nn::AdditiveAttention>(8, dtype, int64_t(6), int64_t(8), int64_t(5));
    tg::Generator gen(9);
    check_twins<tg::nn::AdditiveAttention>(
        m, {random_input({3, 6}, dtype, gen), random_input({3, 4, 8}, dtype, gen), constant_input(mask)},
        [](const tg::nn::AdditiveAttention& att, const std::vector<Tensor>& in) {
          const tg::nn::AttentionResult r = att(in[0], in[1], in[2]);
          return std::vector<Tensor>{r.context, r.weights};
        },
        dtype);
  }
}

TEST_CASE("LuongAttention: dot and general scores with a padding mask") {
  const Tensor mask = length_mask({1, 4, 2}, 4);
  for (DType dtype : kDTypes)
    for (tg::nn::LuongScore score : {tg::nn::LuongScore::dot, tg::nn::LuongScore::general}) {
      CAPTURE(tg::dtype_name(dtype));
      CAPTURE(score == tg::nn::LuongScore::dot ? "dot" : "general");
      const int64_t query_size = score == tg::nn::LuongScore::dot ? 8 : 6;
      const auto m = twins<tg::nn::LuongAttention>(10, dtype, query_size, int64_t(8), score);
      tg::Generator gen(11);
      check_twins<tg::nn::LuongAttention>(
          m, {random_input({3, query_size}, dtype, gen), random_input({3, 4, 8}, dtype, gen), constant_input(mask)},
          [](const tg::nn::LuongAttention& att, const std::vector<Tensor>& in) {
            const tg::nn::AttentionResult r = att(in[0], in[1], in[2]);
            return std::vector<Tensor>{r.context, r.weights};
          },
          dtype);
    }
}

TEST_CASE("Adam: steps on the GPU move the parameters and moments as on the cpu") {
  for (DType dtype : kDTypes)
    for (bool amsgrad : {false, true}) {
      CAPTURE(tg::dtype_name(dtype));
      CAPTURE(amsgrad);
      const auto m = twins<Mlp>(12, dtype);
      const tg::optim::AdamOptions options{.lr = 1e-2, .weight_decay = 0.01, .amsgrad = amsgrad};
      // Made after the move, as nn/module.h asks: its moments live where the parameters do.
      tg::optim::Adam adam_cpu(m.cpu->named_parameters(), options), adam_gpu(m.gpu->named_parameters(), options);
      tg::Generator gen(13);
      for (int step = 0; step < 5; ++step) {
        CAPTURE(step);
        const Tensor x = tg::randn({9, 6}, {dtype}, gen), y = tg::randn({9, 3}, {dtype}, gen);
        tg::mse_loss(m.cpu->forward(x), y).backward();
        tg::mse_loss(m.gpu->forward(x.to(kGpu)), y.to(kGpu)).backward();
        adam_cpu.step();
        adam_gpu.step();
        check_parameters(*m.cpu, *m.gpu, tolerance(dtype));  // gradients of this step, values after it
        adam_cpu.zero_grad();
        adam_gpu.zero_grad();
      }
      const tg::optim::OptimizerState s_cpu = adam_cpu.state(), s_gpu = adam_gpu.state();
      REQUIRE(s_cpu.tensors.size() == s_gpu.tensors.size());
      for (size_t i = 0; i < s_cpu.tensors.size(); ++i)
        check_equal(s_gpu.tensors[i].second, s_cpu.tensors[i].second, s_cpu.tensors[i].first, tolerance(dtype));
      CHECK(s_gpu.scalars == s_cpu.scalars);
    }
}

// ---------------------------------------------------------------------------
// translation models

TEST_CASE("Cho and Bahdanau: teacher-forced logits and every gradient equal the cpu's") {
  const Batch batch = batch_of(random_examples(5, 13, 11, 6, 7, 3));  // padded sources and targets
  const Batch batch_gpu = batch.to(kGpu);
  for (const std::string& kind : kKinds)
    for (DType dtype : kDTypes) {
      CAPTURE(kind);
      CAPTURE(tg::dtype_name(dtype));
      const ModelConfig config = config_of(kind, 13, 11, 5, 6, 0.0);
      const std::unique_ptr<Seq2Seq> cpu = build(config, dtype, 1), gpu = build(config, dtype, 1);
      gpu->to(kGpu);
      const Tensor logits_cpu = cpu->forward(batch), logits_gpu = gpu->forward(batch_gpu);
      CHECK(logits_gpu.device() == kGpu);
      check_equal(logits_gpu, logits_cpu, "logits", tolerance(dtype));
      cpu->loss(batch).backward();
      gpu->loss(batch_gpu).backward();
      check_parameters(*cpu, *gpu, tolerance(dtype));
    }
}

TEST_CASE("a few Adam steps on Multi30k pairs lower the loss on the GPU") {
  const Corpus corpus = small_corpus(64);
  const Batch batch = batch_of(corpus.examples);
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    const ModelConfig config = config_of(kind, corpus.src_vocab.size(), corpus.tgt_vocab.size(), 16, 32, 0.1);
    auto cpu = tg::translate::make_model(config, 3), gpu = tg::translate::make_model(config, 3);
    gpu->to(kGpu);
    // Before training (without dropout) the loss is the cpu's, to float32 rounding.
    cpu->eval(), gpu->eval();
    CHECK(gpu->loss(batch.to(kGpu)).item() == doctest::Approx(cpu->loss(batch).item()).epsilon(1e-5));
    gpu->train();
    const std::vector<double> losses = train(*gpu, batch.to(kGpu), 25, 1e-2);
    MESSAGE(kind << " on the GPU: loss " << losses.front() << " -> " << losses.back());
    CHECK(std::isfinite(losses.back()));
    CHECK(losses.front() > std::log(double(corpus.tgt_vocab.size())) * 0.8);  // starts near chance
    CHECK(losses.back() < 0.75 * losses.front());
  }
}

TEST_CASE("checkpoints: written from the GPU, loaded on the cpu (and back), the same logits") {
  const Corpus corpus = small_corpus(32);
  const Batch batch = batch_of(corpus.examples);
  for (const std::string& kind : kKinds) {
    CAPTURE(kind);
    tg::translate::CheckpointInfo info;
    info.config = config_of(kind, corpus.src_vocab.size(), corpus.tgt_vocab.size(), 16, 32, 0.1);
    info.src_vocab = corpus.src_vocab;
    info.tgt_vocab = corpus.tgt_vocab;
    auto trained = tg::translate::make_model(info.config, 5);
    trained->to(kGpu);
    train(*trained, batch.to(kGpu), 3, 1e-2);  // values that are not the initial ones
    trained->eval();
    const Tensor logits_gpu = trained->forward(batch.to(kGpu));

    // GPU -> file -> cpu, through the translate program's checkpoint.
    const TempFile file("checkpoint_" + kind);
    tg::translate::save_model_checkpoint(file.path, *trained, info);
    const tg::translate::Translator on_cpu = tg::translate::load_translator(file.path);
    CHECK(on_cpu.model->device() == tg::Device::cpu());
    const Tensor logits_cpu = on_cpu.model->forward(batch);
    check_equal(logits_gpu, logits_cpu, "logits of the checkpoint loaded on the cpu", tolerance(DType::f32));

    // cpu -> file -> GPU.
    const TempFile back("checkpoint_back_" + kind);
    tg::translate::save_model_checkpoint(back.path, *on_cpu.model, info);
    const tg::translate::Translator on_gpu = tg::translate::load_translator(back.path, kGpu);
    CHECK(on_gpu.model->device() == kGpu);
    check_equal(on_gpu.model->forward(batch.to(kGpu)), logits_cpu, "logits of the checkpoint loaded on the GPU",
                tolerance(DType::f32));

    // A module-level checkpoint (nn/checkpoint.h) into a cpu model of another seed.
    const TempFile module_file("module_" + kind);
    tg::nn::save(*trained, module_file.path);
    auto other = tg::translate::make_model(info.config, 99);
    other->eval();
    tg::nn::load(*other, module_file.path);
    check_equal(logits_gpu, other->forward(batch), "logits after nn::load on the cpu", tolerance(DType::f32));
  }
}

int main(int argc, char** argv) { return run_cuda_test_program(argc, argv); }
