#pragma once
// A word-level recurrent language model: each position predicts the next word.
//
//   e_t = dropout(Embedding(w_t))        tokens (T, B) -> (T, B, E)
//   h_t = GRU(e_t, h_{t-1})              (T, B, E) -> (T, B, H), L layers
//   logits_t = Linear(dropout(h_t))      (T, B, H) -> (T, B, V)
//   P(w_{t+1} | w_1..w_t) = softmax(logits_t)
#include <cstdint>
#include <utility>

#include "core/services/generator.h"
#include "core/tensor/tensor.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/recurrent/gru.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace tg::language_model {

struct WordModelConfig {
  int64_t vocab = 0;   // V, the vocabulary size (id 0 is <pad>)
  int64_t embed = 128;  // E
  int64_t hidden = 256;  // H
  int layers = 1;      // L
  double dropout = 0.3;  // on embeddings and on the GRU's output (and between GRU layers)
};

class WordModel : public nn::Module {
 public:
  // Initial weights and dropout masks come from `seed`.
  WordModel(const WordModelConfig& config, uint64_t seed);

  // tokens (T, B) int64 -> logits (T, B, V). Sentences are padded at the end,
  // so padding never influences a real position (the model only looks back).
  Tensor forward(const Tensor& tokens) const;
  // forward's logits at rows (N) int64 of the flat (T·B) positions alone: (N, V). The output layer runs on those
  // rows only (the loss: the real targets, text::target_rows).
  Tensor forward_at(const Tensor& tokens, const Tensor& rows) const;

  // One position for a batch: tokens (B) int64, state (L, B, H) or undefined
  // (zeros) -> logits (B, V) and the new state (L, B, H).
  std::pair<Tensor, Tensor> step(const Tensor& tokens, const Tensor& state) const;

  const WordModelConfig& config() const { return config_; }
  std::string type_name() const override { return "WordModel"; }

 private:
  Tensor output_input(const Tensor& tokens) const;  // dropout(GRU(dropout(E tokens))) (T, B, H)
  WordModelConfig config_;
  Generator init_gen_;  // draws the initial weights; declared before the layers it initialises

 public:
  nn::Embedding embed;
  nn::Dropout dropout;
  nn::GRU gru;
  nn::Linear out;
};

}  // namespace tg::language_model
