#include "apps/language_model/word_model.h"

#include <tapegrad.h>
#include <tapegrad_text.h>

namespace tg::language_model {

namespace {

const WordModelConfig& checked(const WordModelConfig& c) {
  if (c.vocab < 5) fail("WordModel: vocab must hold the 4 specials and at least one word, got size {}", c.vocab);
  if (c.embed < 1) fail("WordModel: embed must be >= 1, got {}", c.embed);
  if (c.hidden < 1) fail("WordModel: hidden must be >= 1, got {}", c.hidden);
  if (c.layers < 1) fail("WordModel: layers must be >= 1, got {}", c.layers);
  if (!(c.dropout >= 0 && c.dropout < 1)) fail("WordModel: dropout must be in [0, 1), got {}", c.dropout);
  return c;
}

nn::GRUOptions gru_options(const WordModelConfig& c) {
  nn::GRUOptions o;
  o.num_layers = c.layers;
  o.dropout = c.layers > 1 ? c.dropout : 0;  // between layers only
  return o;
}

}  // namespace

WordModel::WordModel(const WordModelConfig& config, uint64_t seed)
    : config_(checked(config)),
      init_gen_(seed),
      embed(config.vocab, config.embed, text::Vocab::pad_id, DType::f32, init_gen_),
      dropout(config.dropout, seed ^ 0xD50BULL),
      gru(config.embed, config.hidden, gru_options(config), DType::f32, init_gen_),
      out(config.hidden, config.vocab, {.dtype = DType::f32}, init_gen_) {
  register_module("embed", embed);
  register_module("dropout", dropout);
  register_module("gru", gru);
  register_module("out", out);
  gru.reseed(seed ^ 0x6A0ULL);
}

Tensor WordModel::forward(const Tensor& tokens) const { return out(output_input(tokens)); }  // (T, B, V)

Tensor WordModel::forward_at(const Tensor& tokens, const Tensor& rows) const {
  const Tensor h = output_input(tokens);                                     // (T, B, H)
  return out(index_select(reshape(h, Shape{-1, h.size(2)}), 0, rows));  // (N, V)
}

Tensor WordModel::output_input(const Tensor& tokens) const {
  if (tokens.ndim() != 2 || tokens.dtype() != DType::i64)
    fail("WordModel: tokens must be (T, B) int64, got {} {}", tokens.shape().str(), dtype_name(tokens.dtype()));
  const Tensor e = dropout(embed(tokens));  // (T, B, E)
  return dropout(gru(e).output);            // (T, B, H)
}

std::pair<Tensor, Tensor> WordModel::step(const Tensor& tokens, const Tensor& state) const {
  if (tokens.ndim() != 1 || tokens.dtype() != DType::i64)
    fail("WordModel: step tokens must be (B) int64, got {} {}", tokens.shape().str(), dtype_name(tokens.dtype()));
  const Tensor e = unsqueeze(dropout(embed(tokens)), 0);  // (1, B, E)
  const nn::GRUOutput o = gru(e, state);                  // output (1, B, H), h_n (L, B, H)
  return {out(dropout(select(o.output, 0, 0))), o.h_n};  // (B, V), (L, B, H)
}

}  // namespace tg::language_model
