#pragma once
// Cho et al. 2014, "Learning Phrase Representations using RNN Encoder-Decoder
// for Statistical Machine Translation", in the formulation of the widely used
// PyTorch tutorial (bentrevett/pytorch-seq2seq, part 2):
//
//   encoder   h_j = GRU(E_src x_j, h_{j-1}),  c = h_{S_b} (the last real token's state)  (B, H)
//   decoder   s_0 = tanh(W_c c + b_c)                                               (B, H)
//             s_t = GRUCell([E y_{t-1}; c], s_{t-1})       input (B, E + H)
//             logits_t = W_o [s_t; E y_{t-1}; c] + b_o     (B, H + E + H) -> (B, V)
//
// With config.cell = "lstm" the encoder is an LSTM and the decoder an
// LSTMCell (parameters "lstm.*", weight_ih (4H, ·)); s_t above is the LSTM's
// h_t, its cell state starts at 0 and travels with h as the state [h; c] (B, 2H).
//
// Dropout (training only) on both embeddings and on s_t before the output layer.
//
// Teacher forcing batches everything that does not depend on s_{t-1}: all
// target embeddings in one lookup; the decoder's input projection
// W_ih [E y; c] = W_ih^y E y + W_ih^c c splits into a (T·B, E) @ (E, 3H) matmul
// for every step at once and a constant (B, 3H) term; and the output layer,
// the largest product, runs once on the stacked (T·B, H + E) matrix, c's part
// (B, V) added by broadcasting. Only gru_step (lstm_step) runs per time step.
#include "core/types/dtype.h"
#include "core/services/generator.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/input_parts.h"
#include "nn/linear.h"
#include "ops/int8_linear.h"
#include "apps/translate/models/model_parts.h"
#include "apps/translate/models/seq2seq.h"

namespace tg::translate {

struct ChoDecoder : nn::Module {
  ChoDecoder(const ModelConfig& config, DType dtype, Generator& gen);
  std::string type_name() const override { return "ChoDecoder"; }

  nn::Embedding embed;   // weight (V_tgt, E), row <pad> zero
  nn::Dropout dropout;   // on the embeddings and on s_t before `out`
  nn::Linear init_state; // W_c (H, H), b_c (H,):  s_0 = tanh(W_c c + b_c)
  detail::DecoderCell cell;  // "gru" (or "lstm"): weight_ih (3H (4H), E + H), columns E y | c
  nn::Linear out;        // weight (V_tgt, H + E + H), columns s | E y | c
};

class ChoModel : public Seq2Seq {
 public:
  ChoModel(const ModelConfig& config, DType dtype = DType::f32, Generator& gen = default_generator());

  const ModelConfig& config() const override { return config_; }
  Encoded encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const override;
  Tensor forward(const text::Batch& batch) const override;
  Tensor forward_at(const text::Batch& batch, const Tensor& rows) const override;
  Step step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const override;
  std::string type_name() const override { return "ChoModel"; }
  void quantize_for_decoding() override;
  bool quantized_for_decoding() const override { return int8_out_.defined(); }
  Encoded restrict_output(const Encoded& encoded, const Tensor& ids) const override;

  Encoder encoder;  // one direction: E -> H
  ChoDecoder decoder;

 private:
  // The two products forward and step share, the cell's input projection and
  // the output layer, each split into the fixed context's share (once per
  // sentence) and the share of what changes every step.
  nn::InputParts cell_input_parts() const;
  nn::InputParts output_parts() const;
  nn::InputParts output_parts(const Tensor& weight, const Tensor& bias) const;
  Tensor cell_input(const Tensor& y, const Tensor& context_share) const;
  Tensor output_logits(const Tensor& s_y, const Tensor& context_share) const;
  // What the output layer reads for all steps: [s; E y] (T, B, H + E) and the context's share c W_o^cᵀ + b_o (B, V).
  struct OutputInputs {
    Tensor s_y, context_share;
  };
  OutputInputs output_inputs(const text::Batch& batch) const;
  ModelConfig config_;
  Int8Linear int8_out_;  // W_o^{s,y} (V, H + E) with int8 weights, once quantized for decoding
};

}  // namespace tg::translate
