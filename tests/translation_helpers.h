#pragma once
// Helpers the translation-model suites share (test_translate_models.cpp on
// the cpu, test_cuda_models.cpp on the GPU): models, configurations, random
// and Multi30k sentence pairs, batches, the training loss and a few Adam steps.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/translate/models/bahdanau_model.h"
#include "apps/translate/models/cho_model.h"
#include "apps/translate/models/transformer_model.h"
#include "apps/translate/models/seq2seq.h"
#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"

namespace translation_helpers {

using tg::text::Batch;
using tg::text::Example;
using tg::text::Vocab;
using tg::translate::ModelConfig;
using tg::translate::Seq2Seq;

inline ModelConfig config_of(const std::string& kind, int64_t src_vocab, int64_t tgt_vocab, int64_t embed,
                             int64_t hidden, double dropout) {
  ModelConfig c;
  c.kind = kind;
  c.src_vocab = src_vocab;
  c.tgt_vocab = tgt_vocab;
  c.embed = embed;
  c.hidden = hidden;
  c.dropout = dropout;
  if (kind == "transformer") {  // small: 2 layers each side, 2 heads where the size allows
    c.layers = 2;
    c.heads = embed % 2 == 0 ? 2 : 1;
  }
  return c;
}

// The model config.kind names, its parameters drawn from `seed`.
inline std::unique_ptr<Seq2Seq> build(const ModelConfig& config, tg::DType dtype, uint64_t seed) {
  tg::Generator gen(seed);
  if (config.kind == "cho") return std::make_unique<tg::translate::ChoModel>(config, dtype, gen);
  if (config.kind == "transformer") return std::make_unique<tg::translate::TransformerModel>(config, dtype, gen);
  if (config.kind != "bahdanau") throw std::invalid_argument("build: unknown kind " + config.kind);
  return std::make_unique<tg::translate::BahdanauModel>(config, dtype, gen);
}

// Sentences of ids in 4..vocab-1 (no specials), of random lengths up to the maxima.
inline std::vector<Example> random_examples(int64_t count, int64_t src_vocab, int64_t tgt_vocab, int64_t max_src,
                                            int64_t max_tgt, uint64_t seed) {
  tg::Generator gen(seed);
  const int64_t row = 2 + max_src + max_tgt;
  const std::vector<double> u = tg::uniform({count, row}, 0, 1, {tg::DType::f64}, gen).to_vector<double>();
  std::vector<Example> examples;
  for (int64_t i = 0; i < count; ++i) {
    const double* r = u.data() + i * row;
    Example e;
    const int64_t src_len = 1 + static_cast<int64_t>(r[0] * max_src), tgt_len = 1 + static_cast<int64_t>(r[1] * max_tgt);
    for (int64_t j = 0; j < src_len; ++j) e.src.push_back(4 + static_cast<int64_t>(r[2 + j] * (src_vocab - 4)));
    for (int64_t j = 0; j < tgt_len; ++j)
      e.tgt.push_back(4 + static_cast<int64_t>(r[2 + max_src + j] * (tgt_vocab - 4)));
    examples.push_back(std::move(e));
  }
  return examples;
}

// A vocabulary of `size` ids: the four specials, then <prefix>4, <prefix>5, ...
inline Vocab vocab_of_size(int64_t size, const std::string& prefix = "w") {
  std::string lines = "<pad>\n<bos>\n<eos>\n<unk>\n";
  for (int64_t i = 4; i < size; ++i) lines += prefix + std::to_string(i) + "\n";
  return Vocab::from_string(lines);
}

inline Batch batch_of(const std::vector<Example>& examples) {
  std::vector<int64_t> indices(examples.size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i);
  return tg::text::make_batch(examples, indices);
}

struct Corpus {
  std::vector<Example> examples;
  Vocab src_vocab, tgt_vocab;
};

// The first `count` Multi30k training pairs (train.lc.norm.tok) with
// vocabularies built from them (min_freq 2); synthetic sentences when the
// data is missing.
inline Corpus small_corpus(int64_t count) {
  const std::string dir = test_support::multi30k_dir();
  std::vector<std::vector<std::string>> src, tgt;
  if (std::filesystem::exists(dir + "/train.lc.norm.tok.de.gz")) {
    const std::vector<std::string> de = tg::text::read_lines(dir + "/train.lc.norm.tok.de.gz");
    const std::vector<std::string> en = tg::text::read_lines(dir + "/train.lc.norm.tok.en.gz");
    for (int64_t i = 0; i < count; ++i) {
      src.push_back(tg::text::split_tokens(de[size_t(i)]));
      tgt.push_back(tg::text::split_tokens(en[size_t(i)]));
    }
  } else {
    MESSAGE("Multi30k not found in '" << dir << "' (set MULTI30K_DIR): training on synthetic pairs instead");
    for (const Example& e : random_examples(count, 40, 30, 10, 10, 7)) {
      src.emplace_back(), tgt.emplace_back();
      for (int64_t id : e.src) src.back().push_back(fmt::format("s{}", id));
      for (int64_t id : e.tgt) tgt.back().push_back(fmt::format("t{}", id));
    }
  }
  Corpus corpus{{}, Vocab::build(src, 2), Vocab::build(tgt, 2)};
  corpus.examples = tg::text::encode_pairs(src, tgt, corpus.src_vocab, corpus.tgt_vocab);
  return corpus;
}

// Adam steps on one batch (on the model's device); the losses before each step.
inline std::vector<double> train(Seq2Seq& model, const Batch& batch, int steps, double lr) {
  tg::optim::AdamOptions options;
  options.lr = lr;
  tg::optim::Adam adam(model.named_parameters(), options);
  std::vector<double> losses;
  for (int i = 0; i < steps; ++i) {
    const tg::Tensor loss = model.loss(batch);
    losses.push_back(loss.item());
    loss.backward();
    adam.step();
    adam.zero_grad();
  }
  return losses;
}

}  // namespace translation_helpers
