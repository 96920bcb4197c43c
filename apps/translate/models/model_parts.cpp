#include "apps/translate/models/model_parts.h"

#include <string_view>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/tape.h"
#include "ops/recompute.h"
#include "ops/add.h"
#include "ops/concat.h"
#include "ops/gru_gates.h"
#include "ops/index_select.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/reshape.h"
#include "ops/transpose.h"
#include "ops/slice.h"
#include "data/text/vocab.h"

namespace tg::translate::detail {

void check_config(const ModelConfig& config, const char* model) {
  if (config.cell != "gru" && config.cell != "lstm")
    fail("{}: cell must be gru or lstm, got '{}'", model, config.cell);
  if (config.src_vocab <= 4 || config.tgt_vocab <= 4)
    fail("{}: vocabularies need more than the 4 special tokens, got src_vocab={} tgt_vocab={}", model,
         config.src_vocab, config.tgt_vocab);
  if (config.embed <= 0 || config.hidden <= 0)
    fail("{}: embed and hidden must be positive, got embed={} hidden={}", model, config.embed, config.hidden);
  if (!(config.dropout >= 0 && config.dropout < 1))
    fail("{}: dropout must be in [0, 1), got {}", model, config.dropout);
  if (config.tie_embeddings && std::string_view(model) == "ChoModel")
    fail("{}: tied embeddings are implemented for the bahdanau and transformer models only", model);
  if (std::string_view(model) == "TransformerModel") {
    if (config.layers <= 0 || config.heads <= 0)
      fail("{}: layers and heads must be positive, got layers={} heads={}", model, config.layers, config.heads);
    if (config.embed % config.heads != 0)
      fail("{}: the model size (embed {}) must be divisible by heads {}", model, config.embed, config.heads);
  }
}

void check_source(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask, const char* model) {
  check_defined(src, model, "src");
  check_defined(src_lengths, model, "src_lengths");
  check_defined(src_mask, model, "src_mask");
  if (src.ndim() != 2 || src.dtype() != DType::i64)
    fail("{}: src must be int64 (S, B), got {} {}", model, dtype_name(src.dtype()), src.shape().str());
  const int64_t S = src.size(0), B = src.size(1);
  if (!(src_lengths.shape() == Shape{B}) || src_lengths.dtype() != DType::i64)
    fail("{}: src_lengths must be int64 ({},) for src {}, got {} {}", model, B, src.shape().str(),
         dtype_name(src_lengths.dtype()), src_lengths.shape().str());
  if (!(src_mask.shape() == Shape{B, S}) || src_mask.dtype() != DType::boolean)
    fail("{}: src_mask must be bool ({}, {}) for src {}, got {} {}", model, B, S, src.shape().str(),
         dtype_name(src_mask.dtype()), src_mask.shape().str());
}

void check_target(const text::Batch& batch, const char* model) {
  check_defined(batch.tgt_in, model, "tgt_in");
  const Tensor& t = batch.tgt_in;
  if (t.ndim() != 2 || t.dtype() != DType::i64 || t.size(1) != batch.src.size(1))
    fail("{}: tgt_in must be int64 (T, {}) for src {}, got {} {}", model, batch.src.size(1),
         batch.src.shape().str(), dtype_name(t.dtype()), t.shape().str());
}

void check_step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden, int64_t hidden_size,
                const char* model) {
  check_defined(encoded.mask, model, "encoded.mask");
  check_defined(prev_tokens, model, "prev_tokens");
  check_defined(hidden, model, "hidden");
  const int64_t B = encoded.mask.size(0);
  if (!(prev_tokens.shape() == Shape{B}) || prev_tokens.dtype() != DType::i64)
    fail("{}: prev_tokens must be int64 ({},) for an encoding of {} sentences, got {} {}", model, B, B,
         dtype_name(prev_tokens.dtype()), prev_tokens.shape().str());
  if (!(hidden.shape() == Shape{B, hidden_size}))
    fail("{}: hidden must be ({}, {}), got {}", model, B, hidden_size, hidden.shape().str());
}

EncoderRNN::EncoderRNN(const std::string& cell, int64_t input_size, int64_t hidden_size,
                       nn::RecurrentOptions options, DType dtype, Generator& gen) {
  if (cell == "lstm")
    lstm = std::make_unique<nn::LSTM>(input_size, hidden_size, options, dtype, gen);
  else
    gru = std::make_unique<nn::GRU>(input_size, hidden_size, options, dtype, gen);
}

nn::Module& EncoderRNN::module() const {
  if (gru) return *gru;
  return *lstm;
}

nn::GRUOutput EncoderRNN::operator()(const Tensor& x, const Tensor& lengths) const {
  if (!recompute || !grad_enabled()) return run(x, lengths);
  // The recurrence has no dropout of its own: no random stream to set back.
  const std::vector<Tensor> out = tg::recompute(
      [this](const std::vector<Tensor>& in) {
        const nn::GRUOutput again = run(in[0], in[1]);
        return std::vector<Tensor>{again.output, again.h_n};
      },
      {x, lengths});
  return {out[0], out[1]};
}

nn::GRUOutput EncoderRNN::run(const Tensor& x, const Tensor& lengths) const {
  if (gru) return (*gru)(x, {}, lengths);
  const nn::LSTMOutput run = (*lstm)(x, {}, {}, lengths);
  return {run.output, run.h_n};
}

DecoderCell::DecoderCell(const std::string& cell, int64_t input_size, int64_t hidden_size, DType dtype,
                         Generator& gen) {
  if (cell == "lstm")
    lstm = std::make_unique<nn::LSTMCell>(input_size, hidden_size, nn::LayerOptions{.dtype = dtype}, gen);
  else
    gru = std::make_unique<nn::GRUCell>(input_size, hidden_size, nn::LayerOptions{.dtype = dtype}, gen);
}

nn::Module& DecoderCell::module() const {
  if (gru) return *gru;
  return *lstm;
}

const nn::RecurrentWeights& DecoderCell::weights() const {
  if (gru) return *gru;
  return *lstm;
}
int64_t DecoderCell::hidden_size() const { return gru ? gru->hidden_size() : lstm->hidden_size(); }
int64_t DecoderCell::state_size() const { return gru ? hidden_size() : 2 * hidden_size(); }

Tensor DecoderCell::initial_state(const Tensor& s0) const {
  if (gru) return s0;
  return concat({s0, zeros(s0.shape(), {s0.dtype(), s0.device()})}, 1);  // [h_0; c_0 = 0] (B, 2H)
}

Tensor DecoderCell::output(const Tensor& state) const {
  return gru ? state : slice(state, 1, 0, hidden_size());  // h (B, H)
}

Tensor DecoderCell::step(const Tensor& gi, const Tensor& state, const Tensor& weight_hh_t) const {
  if (gru) return nn::gru_step(gi, state, weight_hh_t, gru->bias_hh);
  const int64_t H = hidden_size();
  const nn::LSTMState next =
      nn::lstm_step(gi, {slice(state, 1, 0, H), slice(state, 1, H, 2 * H)}, weight_hh_t, lstm->bias_hh);
  return concat({next.h, next.c}, 1);  // [h; c] (B, 2H)
}

void EncoderRNN::quantize_for_inference() {
  if (gru) gru->quantize_for_inference();
  if (lstm) lstm->quantize_for_inference();
}

void DecoderCell::quantize_for_decoding(int64_t input_columns, bool with_input_bias) {
  const nn::RecurrentWeights& w = weights();
  int8_input = Int8Linear::quantize(slice(w.weight_ih, 1, 0, input_columns), with_input_bias ? w.bias_ih : Tensor());
  int8_recurrent = Int8Linear::quantize(w.weight_hh, w.bias_hh);  // (G·H, H): rows are gate units
}

Tensor DecoderCell::quantized_input(const Tensor& x, const Tensor& base) const {
  if (!quantized_for_decoding()) fail("DecoderCell: quantized_input before quantize_for_decoding");
  const Tensor gi = int8_input(x);  // (B, G·H)
  return base.defined() ? gi + base : gi;
}

Tensor DecoderCell::quantized_step(const Tensor& gi, const Tensor& state) const {
  if (!quantized_for_decoding()) fail("DecoderCell: quantized_step before quantize_for_decoding");
  const Tensor h = output(state);     // (B, H)
  const Tensor gh = int8_recurrent(h);  // (B, G·H) = h W_hhᵀ + b_hh
  if (gru) return gru_gates(gi, gh, h);
  const nn::LSTMState next = nn::lstm_gates(gi + gh, slice(state, 1, hidden_size(), 2 * hidden_size()));
  return concat({next.h, next.c}, 1);  // [h; c] (B, 2H)
}

Tensor output_logits(const nn::Linear& out, const Tensor& features, const Tensor& tied_embedding,
                     const Tensor& tied_bias) {
  const Tensor projected = out(features);  // (..., V) untied; (..., E) tied
  if (!tied_embedding.defined()) return projected;
  Shape shape = projected.shape();
  const int64_t E = shape[shape.size() - 1];
  const Tensor rows = reshape(projected, Shape{-1, E});                            // (N, E): one product
  const Tensor logits = linear(rows, tied_embedding, tied_bias);  // (N, E) @ (V, E)ᵀ + (V,), one node
  shape[shape.size() - 1] = tied_embedding.size(0);
  return reshape(logits, shape);  // (..., V)
}

Int8OutputLayer quantize_output(const nn::Linear& out, const Tensor& tied_embedding, const Tensor& tied_bias) {
  Int8OutputLayer layer;
  layer.out = Int8Linear::quantize(out.weight, out.bias);
  if (tied_embedding.defined()) layer.tied = Int8Linear::quantize(tied_embedding, tied_bias);  // (V, E): rows are words
  return layer;
}

Tensor output_logits(const Int8OutputLayer& layer, const Tensor& features) {
  const Tensor projected = layer.out(features);  // (..., V) untied; (..., E) tied
  return layer.tied.defined() ? layer.tied(projected) : projected;
}

std::shared_ptr<const RestrictedOutput> restrict_rows(const Tensor& ids, const Tensor& weight, const Tensor& bias,
                                                      const Int8Linear& int8) {
  if (ids.ndim() != 1 || ids.dtype() != DType::i64)
    fail("restrict_output: ids must be int64 (U), got {} {}", dtype_name(ids.dtype()), ids.shape().str());
  auto rows = std::make_shared<RestrictedOutput>();
  rows->ids = ids;
  rows->weight = index_select(weight, 0, ids);  // (U, F); index_select refuses an id outside [0, V)
  if (bias.defined()) rows->bias = index_select(bias, 0, ids);
  if (int8.defined()) rows->int8 = int8.rows(ids.to(Device::cpu()));
  return rows;
}

Tensor restricted_logits(const RestrictedOutput& rows, const Tensor& x) {
  if (rows.int8.defined()) return rows.int8(x);
  return linear(x, rows.weight, rows.bias);  // (..., F) @ (U, F)ᵀ + (U)
}

Tensor rows_at(const Tensor& x, const Tensor& rows) {
  check_defined(x, "rows_at", "x");
  if (x.ndim() < 2) fail("rows_at: x must be (T, B, ...), got {}", x.shape().str());
  Shape flat{-1};  // (T·B, ...)
  for (int axis = 2; axis < x.ndim(); ++axis) flat.push_back(x.size(axis));
  return index_select(reshape(x, flat), 0, rows);
}

}  // namespace tg::translate::detail

namespace tg::translate {

Encoder::Encoder(const ModelConfig& c, EncoderOptions options, DType dtype, Generator& gen)
    : bidirectional(options.bidirectional),
      embed(c.src_vocab, c.embed, text::Vocab::pad_id, dtype, gen),
      dropout(c.dropout, gen.next_u64()),
      rnn(c.cell, c.embed, c.hidden, {.bidirectional = options.bidirectional}, dtype, gen) {
  rnn.recompute = c.recompute_encoder;
  register_module("embed", embed);
  register_module("dropout", dropout);
  register_module(rnn.name(), rnn.module());
}

}  // namespace tg::translate
