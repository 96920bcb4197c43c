#include "apps/translate/models/bahdanau_model.h"

#include <cmath>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "data/text/vocab.h"
#include "apps/translate/models/model_parts.h"
#include "ops/add.h"
#include "ops/concat.h"
#include "ops/matmul.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/select.h"
#include "ops/softmax.h"
#include "ops/stack.h"
#include "ops/tanh.h"
#include "ops/transpose.h"

namespace tg::translate {

namespace {
const ModelConfig& checked(const ModelConfig& config) {
  detail::check_config(config, "BahdanauModel");
  return config;
}

void check_attention_inputs(const Encoded& encoded) {
  check_defined(encoded.keys, "BahdanauModel", "encoded.keys");
  check_defined(encoded.projected_keys, "BahdanauModel", "encoded.projected_keys");
}
}  // namespace

BahdanauDecoder::BahdanauDecoder(const ModelConfig& c, DType dtype, Generator& gen)
    : embed(c.tgt_vocab, c.embed, text::Vocab::pad_id, dtype, gen),
      dropout(c.dropout, gen.next_u64()),
      init_state(2 * c.hidden, c.hidden, {.dtype = dtype}, gen),
      attention(c.hidden, 2 * c.hidden, c.hidden, dtype, gen),
      cell(c.cell, c.embed + 2 * c.hidden, c.hidden, dtype, gen),
      out(c.hidden + 2 * c.hidden + c.embed, c.tie_embeddings ? c.embed : c.tgt_vocab, {.dtype = dtype}, gen),
      tied(c.tie_embeddings) {
  register_module("embed", embed);
  register_module("dropout", dropout);
  register_module("init_state", init_state);
  register_module("attention", attention);
  register_module(cell.name(), cell.module());
  register_module("out", out);
  if (tied) {
    out_bias = zeros({c.tgt_vocab}, {dtype}).requires_grad_();
    register_parameter("out_bias", out_bias);
    // N(0, 1) rows would make the first logits (out(x) · E_tgt over E terms) of std ~√E and the
    // softmax saturated: rows of std 1/√E keep them near 1 (seen: val BLEU 15.9 against 25.7 after
    // one epoch with N(0, 1)).
    embed.weight.copy_(embed.weight * (1.0 / std::sqrt(static_cast<double>(c.embed))));
  }
}

Tensor BahdanauDecoder::logits(const Tensor& features) const {
  return detail::output_logits(out, features, tied ? embed.weight : Tensor(), out_bias);
}

BahdanauModel::BahdanauModel(const ModelConfig& config, DType dtype, Generator& gen)
    : encoder(checked(config), {.bidirectional = true}, dtype, gen), decoder(config, dtype, gen), config_(config) {
  config_.kind = "bahdanau";
  register_module("encoder", encoder);
  register_module("decoder", decoder);
}

Encoded BahdanauModel::encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const {
  detail::check_source(src, src_lengths, src_mask, "BahdanauModel");
  const int64_t S = src.size(0), B = src.size(1), H = config_.hidden;
  const Tensor x = encoder.dropout(encoder.embed(src));        // (S, B, E)
  const nn::GRUOutput run = encoder.rnn(x, src_lengths);  // output (S, B, 2H), 0 at padding; h_n (2, B, H)
  Encoded encoded;
  encoded.keys = reshape(permute(run.output, {1, 0, 2}), Shape{B, S, 2 * H});  // (B, S, 2H), contiguous copy
  encoded.projected_keys = decoder.attention.project_keys(encoded.keys);      // (B, S, H)
  encoded.mask = src_mask;                                                     // (B, S)
  // h_n[0]: the forward state at each sentence's last real token; h_n[1]: the backward state at token 1.
  const Tensor last = concat({select(run.h_n, 0, 0), select(run.h_n, 0, 1)}, 1);  // (B, 2H)
  const Tensor s0 = tg::tanh(decoder.init_state(last));     // s_0 (B, H)
  encoded.initial_hidden = decoder.cell.initial_state(s0);  // s_0, or [s_0; 0] (B, 2H) for an LSTM
  return encoded;
}

Tensor BahdanauModel::forward(const text::Batch& batch) const {
  return decoder.logits(output_features(batch));  // (T, B, V)
}

Tensor BahdanauModel::forward_at(const text::Batch& batch, const Tensor& rows) const {
  return decoder.logits(detail::rows_at(output_features(batch), rows));  // (T, B, F) -> (N, F) -> (N, V)
}

Tensor BahdanauModel::output_features(const text::Batch& batch) const {
  detail::check_target(batch, "BahdanauModel");
  const Encoded encoded = encode(batch.src, batch.src_lengths, batch.src_mask);
  const int64_t T = batch.tgt_in.size(0);

  const Tensor y = decoder.dropout(decoder.embed(batch.tgt_in));  // E y_{t-1} for all t: (T, B, E)
  // W_ih [E y; c] + b_ih = ((E y) W_ih^yᵀ + b_ih) + c W_ih^cᵀ:  (T, B, 3H) once, (B, 3H) per step
  const detail::DecoderCell& cell = decoder.cell;  // 4H for an LSTM
  const nn::InputParts input = cell_input_parts();
  const Tensor gi_y = input.project_with_bias(0, y);     // (T, B, 3H)
  const Tensor w_hh_t = cell.weights().weight_hh_t();  // (H, 3H)

  std::vector<Tensor> states, contexts;
  states.reserve(static_cast<size_t>(T));
  contexts.reserve(static_cast<size_t>(T));
  Tensor state = encoded.initial_hidden;  // (B, H), or [h; c] (B, 2H)
  for (int64_t t = 0; t < T; ++t) {
    const nn::AttentionResult a = decoder.attention(cell.output(state), encoded.keys, encoded.projected_keys,
                                                    encoded.mask);      // c_t (B, 2H) from s_{t-1}
    const Tensor gi = input.project_onto(1, a.context, select(gi_y, 0, t));  // (B, 3H)
    state = cell.step(gi, state, w_hh_t);                                // (B, H), or (B, 2H)
    states.push_back(cell.output(state));                                // s_t (B, H)
    contexts.push_back(a.context);
  }
  // The output layer's input for all steps at once: [s; c; E y] (T, B, H + 2H + E)
  return concat({stack(states, 0), stack(contexts, 0), y}, 2);
}

// The decoder cell's input [E y; c] by parts: embeddings (all steps at once in
// forward) and the attention context (per step).
nn::InputParts BahdanauModel::cell_input_parts() const {
  return decoder.cell.weights().input_parts({config_.embed, 2 * config_.hidden});  // E y | c
}

Step BahdanauModel::step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const {
  detail::check_step(encoded, prev_tokens, hidden, decoder.cell.state_size(), "BahdanauModel");
  check_attention_inputs(encoded);
  const Tensor y = decoder.dropout(decoder.embed(prev_tokens));  // (B, E)
  const detail::DecoderCell& cell = decoder.cell;
  const Tensor query = cell.output(hidden);  // s_{t-1} (B, H)
  Tensor state;
  nn::AttentionResult a;
  if (quantized_for_decoding()) {  // every product of the step with int8 weights
    a = decoder.attention.forward_projected(decoder.int8_query(query), encoded.keys, encoded.projected_keys,
                                            encoded.mask);                            // c (B, 2H), α (B, S)
    state = cell.quantized_step(cell.quantized_input(concat({y, a.context}, 1), Tensor()), hidden);
  } else {
    a = decoder.attention(query, encoded.keys, encoded.projected_keys, encoded.mask);
    const nn::InputParts input = cell_input_parts();
    const Tensor gi = input.project_onto(1, a.context, input.project_with_bias(0, y));  // (B, 3H)
    state = cell.step(gi, hidden, cell.weights().weight_hh_t());                        // (B, H) or [h; c]
  }
  const Tensor features = concat({cell.output(state), a.context, y}, 1);  // [s; c; E y] (B, H + 2H + E)
  const Tensor logits =
      encoded.shortlist           ? detail::restricted_logits(*encoded.shortlist, shortlist_input(features))  // (B, U)
      : quantized_for_decoding() ? detail::output_logits(decoder.int8_out, features)                         // (B, V)
                                  : decoder.logits(features);
  Step result;
  result.log_probs = log_softmax(logits, -1);  // (B, V)
  result.hidden = state;
  result.attention = a.weights;
  return result;
}

// What the vocabulary's rows multiply: the features themselves, or with tied
// embeddings their projection W_o [s; c; E y] + b_o (B, E).
Tensor BahdanauModel::shortlist_input(const Tensor& features) const {
  if (!decoder.tied) return features;
  return quantized_for_decoding() ? decoder.int8_out.out(features) : decoder.out(features);
}

Encoded BahdanauModel::restrict_output(const Encoded& encoded, const Tensor& ids) const {
  Encoded restricted = encoded;
  const bool q = quantized_for_decoding();
  restricted.shortlist = decoder.tied ? detail::restrict_rows(ids, decoder.embed.weight, decoder.out_bias,
                                                              q ? decoder.int8_out.tied : Int8Linear())
                                      : detail::restrict_rows(ids, decoder.out.weight, decoder.out.bias,
                                                              q ? decoder.int8_out.out : Int8Linear());
  return restricted;
}

void BahdanauModel::quantize_for_decoding() {
  decoder.int8_out = detail::quantize_output(decoder.out, decoder.tied ? decoder.embed.weight : Tensor(),
                                             decoder.out_bias);
  decoder.int8_query = Int8Linear::quantize(decoder.attention.query_proj.weight);  // W_q (H, H), no bias
  decoder.cell.quantize_for_decoding(config_.embed + 2 * config_.hidden, true);   // W_ih on [E y; c], b_ih
  encoder.rnn.quantize_for_inference();                                          // both directions
}

}  // namespace tg::translate
