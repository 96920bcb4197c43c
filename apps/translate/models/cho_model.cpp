#include "apps/translate/models/cho_model.h"

#include "core/services/error.h"
#include "core/autograd/tape.h"
#include "data/text/vocab.h"
#include "apps/translate/models/model_parts.h"
#include "ops/add.h"
#include "ops/concat.h"
#include "ops/index_select.h"
#include "ops/matmul.h"
#include "ops/rounded_division.h"
#include "ops/select.h"
#include "ops/slice.h"
#include "ops/softmax.h"
#include "ops/stack.h"
#include "ops/tanh.h"
#include "ops/transpose.h"

namespace tg::translate {

namespace {
const ModelConfig& checked(const ModelConfig& config) {
  detail::check_config(config, "ChoModel");
  return config;
}
}  // namespace

ChoDecoder::ChoDecoder(const ModelConfig& c, DType dtype, Generator& gen)
    : embed(c.tgt_vocab, c.embed, text::Vocab::pad_id, dtype, gen),
      dropout(c.dropout, gen.next_u64()),
      init_state(c.hidden, c.hidden, {.dtype = dtype}, gen),
      cell(c.cell, c.embed + c.hidden, c.hidden, dtype, gen),
      out(c.hidden + c.embed + c.hidden, c.tgt_vocab, {.dtype = dtype}, gen) {
  register_module("embed", embed);
  register_module("dropout", dropout);
  register_module("init_state", init_state);
  register_module(cell.name(), cell.module());
  register_module("out", out);
}

ChoModel::ChoModel(const ModelConfig& config, DType dtype, Generator& gen)
    : encoder(checked(config), {.bidirectional = false}, dtype, gen), decoder(config, dtype, gen), config_(config) {
  config_.kind = "cho";
  register_module("encoder", encoder);
  register_module("decoder", decoder);
}

Encoded ChoModel::encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const {
  detail::check_source(src, src_lengths, src_mask, "ChoModel");
  const Tensor x = encoder.dropout(encoder.embed(src));        // (S, B, E)
  const nn::GRUOutput run = encoder.rnn(x, src_lengths);  // h_n (1, B, H): each sentence's last real step
  Encoded encoded;
  encoded.context = select(run.h_n, 0, 0);                               // c (B, H)
  encoded.mask = src_mask;                                               // (B, S)
  const Tensor s0 = tg::tanh(decoder.init_state(encoded.context));  // s_0 (B, H)
  encoded.initial_hidden = decoder.cell.initial_state(s0);          // s_0, or [s_0; 0] (B, 2H) for an LSTM
  if (!grad_enabled()) {  // decoding: the context's shares once, not at every step
    encoded.context_input = cell_input_parts().project_with_bias(1, encoded.context);  // (B, 3H)
    encoded.context_output = output_parts().project_with_bias(1, encoded.context);     // (B, V)
  }
  return encoded;
}

Tensor ChoModel::forward(const text::Batch& batch) const {
  const OutputInputs in = output_inputs(batch);
  return output_logits(in.s_y, in.context_share);  // (T, B, V)
}

// Row t·B + b takes sentence b's context share.
Tensor ChoModel::forward_at(const text::Batch& batch, const Tensor& rows) const {
  const OutputInputs in = output_inputs(batch);
  const int64_t B = in.s_y.size(1);
  const Tensor sentences = remainder(rows, B);  // (N) b of each row (integer ops run on the host: on a GPU, a read back)
  return output_logits(detail::rows_at(in.s_y, rows), index_select(in.context_share, 0, sentences));  // (N, V)
}

ChoModel::OutputInputs ChoModel::output_inputs(const text::Batch& batch) const {
  detail::check_target(batch, "ChoModel");
  const Encoded encoded = encode(batch.src, batch.src_lengths, batch.src_mask);
  const Tensor& c = encoded.context;  // (B, H)
  const int64_t T = batch.tgt_in.size(0);

  const Tensor y = decoder.dropout(decoder.embed(batch.tgt_in));  // E y_{t-1} for all t: (T, B, E)
  const detail::DecoderCell& cell = decoder.cell;
  const Tensor gi = cell_input(y, cell_input_parts().project_with_bias(1, c));  // (T, B, 3H) (4H for an LSTM), all steps
  const Tensor w_hh_t = cell.weights().weight_hh_t();  // (H, 3H), once
  std::vector<Tensor> states;
  states.reserve(static_cast<size_t>(T));
  Tensor s = encoded.initial_hidden;  // (B, H), or [h; c] (B, 2H)
  for (int64_t t = 0; t < T; ++t) {
    s = cell.step(select(gi, 0, t), s, w_hh_t);  // (B, H), or (B, 2H)
    states.push_back(cell.output(s));            // s_t (B, H)
  }
  const Tensor s_all = decoder.dropout(stack(states, 0));  // (T, B, H)
  return {concat({s_all, y}, 2), output_parts().project_with_bias(1, c)};  // (T, B, H + E), (B, V)
}

// W_ih [E y; c] + b_ih = (E y) W_ih^yᵀ + (c W_ih^cᵀ + b_ih): the context's share once per
// sentence, broadcast over the steps.
nn::InputParts ChoModel::cell_input_parts() const {
  return decoder.cell.weights().input_parts({config_.embed, config_.hidden});  // E y | c
}

// W_o [s; E y; c] + b_o = [s; E y] W_o^{s,y}ᵀ + (c W_o^cᵀ + b_o): of all of W_o's
// rows, or of a shortlist's (RestrictedOutput).
nn::InputParts ChoModel::output_parts(const Tensor& weight, const Tensor& bias) const {
  return nn::InputParts(weight, bias, {config_.hidden + config_.embed, config_.hidden});
}
nn::InputParts ChoModel::output_parts() const { return output_parts(decoder.out.weight, decoder.out.bias); }

// y (T, B, E) or (B, E), context_share (B, 3H) -> (T, B, 3H) or (B, 3H)
Tensor ChoModel::cell_input(const Tensor& y, const Tensor& context_share) const {
  return cell_input_parts().project_onto(0, y, context_share);
}

// s_y (T, B, H + E) or (B, H + E), context_share (B, V) -> (.., V)
Tensor ChoModel::output_logits(const Tensor& s_y, const Tensor& context_share) const {
  return output_parts().project_onto(0, s_y, context_share);
}

Step ChoModel::step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const {
  detail::check_step(encoded, prev_tokens, hidden, decoder.cell.state_size(), "ChoModel");
  check_defined(encoded.context, "ChoModel", "encoded.context");
  const Tensor& c = encoded.context;                             // (B, H)
  const Tensor y = decoder.dropout(decoder.embed(prev_tokens));  // (B, E)
  const bool shared = encoded.context_input.defined() && encoded.context_output.defined();
  const RestrictedOutput* shortlist = encoded.shortlist.get();
  const nn::InputParts out_parts = shortlist ? output_parts(shortlist->weight, shortlist->bias) : output_parts();  // rows U or V
  const Tensor context_input = shared ? encoded.context_input : cell_input_parts().project_with_bias(1, c);
  const Tensor context_output = shared ? encoded.context_output : out_parts.project_with_bias(1, c);  // (B, U or V)
  const detail::DecoderCell& cell = decoder.cell;
  const bool quantized = quantized_for_decoding();  // every product of the step with int8 weights
  const Tensor state = quantized ? cell.quantized_step(cell.quantized_input(y, context_input), hidden)
                                 : cell.step(cell_input(y, context_input), hidden, cell.weights().weight_hh_t());  // (B, H) or [h; c]
  const Tensor s_y = concat({decoder.dropout(cell.output(state)), y}, 1);        // (B, H + E)
  const Tensor logits = quantized ? add(shortlist ? shortlist->int8(s_y) : int8_out_(s_y), context_output)  // (B, U or V)
                                  : out_parts.project_onto(0, s_y, context_output);
  Step result;
  result.log_probs = log_softmax(logits, -1);  // (B, V)
  result.hidden = state;
  return result;
}

Encoded ChoModel::restrict_output(const Encoded& encoded, const Tensor& ids) const {
  Encoded restricted = encoded;
  // Float rows of all of W_o (the context's share stays float); int8 rows of W_o^{s,y} when quantized.
  const std::shared_ptr<const RestrictedOutput> rows =
      detail::restrict_rows(ids, decoder.out.weight, decoder.out.bias, int8_out_);
  restricted.shortlist = rows;
  if (encoded.context_output.defined())
    restricted.context_output = output_parts(rows->weight, rows->bias).project_with_bias(1, encoded.context);  // (B, U)
  return restricted;
}

void ChoModel::quantize_for_decoding() {
  // The step's share of the output layer, W_o^{s,y} = W_o[:, :H + E]; the context's share is computed once per
  // sentence in float32 (encode).
  int8_out_ = Int8Linear::quantize(slice(decoder.out.weight, 1, 0, config_.hidden + config_.embed));
  decoder.cell.quantize_for_decoding(config_.embed, false);  // W_ih^y; the context's share (with b_ih) per sentence
  encoder.rnn.quantize_for_inference();
}

}  // namespace tg::translate
