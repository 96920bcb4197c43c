#pragma once
// Bahdanau, Cho & Bengio 2014, "Neural Machine Translation by Jointly Learning
// to Align and Translate", in the formulation of the widely used PyTorch
// tutorial (bentrevett/pytorch-seq2seq, part 3):
//
//   encoder   h_j = [h→_j; h←_j] = BiGRU(E_src x)_j                             (B, S, 2H)
//   decoder   s_0 = tanh(W_s [h→_{S_b}; h←_1] + b_s)   both directions' final states  (B, H)
//             c_t, α_t = attention(s_{t-1}, h, mask)   additive: vᵀ tanh(W_k h_j + W_q s)
//             s_t = GRUCell([E y_{t-1}; c_t], s_{t-1})  input (B, E + 2H)
//             logits_t = W_o [s_t; c_t; E y_{t-1}] + b_o   (B, H + 2H + E) -> (B, V)
//   tied      logits_t = (W_o [s_t; c_t; E y_{t-1}] + b_o) E_tgtᵀ + b_v   W_o (E, H + 2H + E)
//             (config.tie_embeddings; Press & Wolf 2017)
//
// With config.cell = "lstm" the encoder is a bidirectional LSTM and the decoder
// an LSTMCell (parameters "lstm.*", weight_ih (4H, ·)); s_t above is the
// LSTM's h_t, its cell state starts at 0 and travels with h as the state
// [h; c] (B, 2H).
//
// Dropout (training only) on both embeddings. The attention's key projection
// W_k h runs once per batch (project_keys); padded source positions get
// weight 0 through the mask.
//
// Teacher forcing batches what does not depend on s_{t-1}: all target
// embeddings in one lookup, the E y part of the decoder's input projection for
// every step in one (T·B, E) @ (E, 3H) matmul, and the output layer once on the
// stacked (T·B, H + 2H + E) matrix. Attention, c_t's part of the input
// projection and gru_step (lstm_step) run per time step.
#include "core/types/dtype.h"
#include "core/services/generator.h"
#include "nn/additive_attention.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/input_parts.h"
#include "nn/linear.h"
#include "apps/translate/models/model_parts.h"
#include "apps/translate/models/seq2seq.h"

namespace tg::translate {

struct BahdanauDecoder : nn::Module {
  BahdanauDecoder(const ModelConfig& config, DType dtype, Generator& gen);
  std::string type_name() const override { return "BahdanauDecoder"; }

  nn::Embedding embed;              // weight (V_tgt, E), row <pad> zero; tied: N(0, 1/E) rows
  nn::Dropout dropout;              // on the embeddings
  nn::Linear init_state;            // W_s (H, 2H), b_s (H,):  s_0 = tanh(W_s [h→_last; h←_first] + b_s)
  nn::AdditiveAttention attention;  // query H, keys 2H, attention size H
  detail::DecoderCell cell;         // "gru" (or "lstm"): weight_ih (3H (4H), E + 2H), columns E y | c
  nn::Linear out;                   // weight (V_tgt, H + 2H + E), columns s | c | E y;
                                    // tied embeddings: (E, H + 2H + E), then E_tgtᵀ
  Tensor out_bias;                  // tied embeddings only: b_v (V_tgt,), the logits' bias
  bool tied = false;

  // logits (..., V) from [s; c; E y] (..., H + 2H + E), tied or not (detail::output_logits).
  Tensor logits(const Tensor& features) const;
  // The step's products with int8 weights once quantized for decoding (the
  // output layer, W_q of the attention, the cell's W_ih and W_hh); step() uses them then.
  detail::Int8OutputLayer int8_out;
  Int8Linear int8_query;
};

class BahdanauModel : public Seq2Seq {
 public:
  BahdanauModel(const ModelConfig& config, DType dtype = DType::f32, Generator& gen = default_generator());

  const ModelConfig& config() const override { return config_; }
  Encoded encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const override;
  Tensor forward(const text::Batch& batch) const override;
  Tensor forward_at(const text::Batch& batch, const Tensor& rows) const override;
  Step step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const override;
  std::string type_name() const override { return "BahdanauModel"; }
  void quantize_for_decoding() override;
  bool quantized_for_decoding() const override { return decoder.int8_out.defined(); }
  Encoded restrict_output(const Encoded& encoded, const Tensor& ids) const override;

  Encoder encoder;  // bidirectional: E -> 2H
  BahdanauDecoder decoder;

 private:
  nn::InputParts cell_input_parts() const;
  Tensor output_features(const text::Batch& batch) const;  // [s; c; E y] (T, B, 3H + E)
  Tensor shortlist_input(const Tensor& features) const;
  ModelConfig config_;
};

}  // namespace tg::translate
