#pragma once
// Checks and small pieces both translation models share (internal to
// apps/translate/models/; not part of the Seq2Seq interface).
#include <cstdint>
#include <memory>

#include "core/services/generator.h"
#include "core/tensor/tensor.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/recurrent/gru.h"
#include "nn/linear.h"
#include "nn/recurrent/gru_cell.h"
#include "nn/recurrent/lstm.h"
#include "nn/recurrent/lstm_cell.h"
#include "ops/int8_linear.h"
#include "apps/translate/models/seq2seq.h"

namespace tg::translate::detail {

// Throws unless the cell, vocabularies, sizes and dropout of `config` are usable;
// messages start with `model` ("ChoModel: hidden must be positive, got 0").
void check_config(const ModelConfig& config, const char* model);

// Throws unless src (S, B) int64, src_lengths (B) int64 and src_mask (B, S) bool agree.
void check_source(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask, const char* model);

// Throws unless batch.tgt_in is (T, B) int64 with the source's B.
void check_target(const text::Batch& batch, const char* model);

// Throws unless prev_tokens (B) int64 and hidden (B, H) fit an encoding of B sentences.
void check_step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden, int64_t hidden_size,
                const char* model);

// ---- the recurrent cell, GRU or LSTM (ModelConfig::cell) ----
// A model holds the GRU or the LSTM version of its encoder network and decoder
// cell and registers it under the name "gru" or "lstm", so a GRU model's
// parameter names do not depend on the choice.

// The encoder's network: exactly one of the two is set.
struct EncoderRNN {
  EncoderRNN(const std::string& cell, int64_t input_size, int64_t hidden_size, nn::RecurrentOptions options, DType dtype,
             Generator& gen);
  std::unique_ptr<nn::GRU> gru;
  std::unique_ptr<nn::LSTM> lstm;
  nn::Module& module() const;  // the one that is set
  const char* name() const { return gru ? "gru" : "lstm"; }
  // x (S, B, E), lengths (B) -> output (S, B, D·H) (0 at padding) and h_n (D, B, H); an LSTM's c_n is not used.
  // With `recompute` (ModelConfig::recompute_encoder) and gradients on, the
  // recurrence runs under tg::recompute: only x and lengths are kept.
  nn::GRUOutput operator()(const Tensor& x, const Tensor& lengths) const;
  bool recompute = false;
  // int8 products from now on (nn::RecurrentNetwork::quantize_for_inference).
  void quantize_for_inference();

 private:
  nn::GRUOutput run(const Tensor& x, const Tensor& lengths) const;
};

}  // namespace tg::translate::detail

namespace tg::translate {

struct EncoderOptions {
  bool bidirectional = false;  // Bahdanau's annotations [h→; h←] (2H); Cho's one direction (H)
};

// The source side of both models: embeddings, dropout on them, one recurrent
// layer E -> H (or 2H, bidirectional), registered as embed, dropout and
// gru/lstm (weight_ih_l0, and weight_ih_l0_reverse when bidirectional).
struct Encoder : nn::Module {
  Encoder(const ModelConfig& config, EncoderOptions options, DType dtype, Generator& gen);
  std::string type_name() const override { return bidirectional ? "BidirectionalEncoder" : "Encoder"; }

  bool bidirectional;
  nn::Embedding embed;  // weight (V_src, E), row <pad> zero
  nn::Dropout dropout;  // on the embeddings
  detail::EncoderRNN rnn;  // "gru" (or "lstm"): E -> H or 2H
};

}  // namespace tg::translate

namespace tg::translate::detail {

// The decoder's cell: exactly one of the two is set. The decoder state is one
// tensor, s (B, H) for a GRU and [h; c] (B, 2H) for an LSTM, so that search
// picks and carries its rows the same way for both.
struct DecoderCell {
  DecoderCell(const std::string& cell, int64_t input_size, int64_t hidden_size, DType dtype, Generator& gen);
  std::unique_ptr<nn::GRUCell> gru;
  std::unique_ptr<nn::LSTMCell> lstm;
  nn::Module& module() const;
  const char* name() const { return gru ? "gru" : "lstm"; }

  // The cell's parameters: input_parts() for gi = x W_ihᵀ + b_ih, weight_hh_t() for the steps.
  const nn::RecurrentWeights& weights() const;
  int64_t hidden_size() const;      // H
  int64_t state_size() const;       // H, or 2H for an LSTM

  // The state before the first step from the model's s_0 (B, H): s_0, or [s_0; 0] for an LSTM.
  Tensor initial_state(const Tensor& s0) const;
  // The cell's output h (B, H) of a state: the state itself, or its h half.
  Tensor output(const Tensor& state) const;
  // The next state from gi (B, G·H) = x W_ihᵀ + b_ih and weight_hh_t (gru_step or lstm_step).
  Tensor step(const Tensor& gi, const Tensor& state, const Tensor& weight_hh_t) const;

  // Decoding with int8 weights (Seq2Seq::quantize_for_decoding): quantizes
  // W_ih[:, :input_columns] (with b_ih when `with_input_bias`) and W_hh with b_hh,
  // per row (tg::Int8Linear). A model gives the columns its step feeds through
  // this product: all of [E y; c] for Bahdanau, E y alone for Cho (whose
  // context share, bias included, is computed once per sentence).
  void quantize_for_decoding(int64_t input_columns, bool with_input_bias);
  bool quantized_for_decoding() const { return int8_recurrent.defined(); }
  // gi = x W_ih[:, :input_columns]ᵀ (+ b_ih) (+ base): x (B, input_columns), base (B, G·H) or undefined.
  Tensor quantized_input(const Tensor& x, const Tensor& base) const;
  // The next state with gh = h W_hhᵀ + b_hh in int8 (the gate arithmetic as step's).
  Tensor quantized_step(const Tensor& gi, const Tensor& state) const;

 private:
  Int8Linear int8_input, int8_recurrent;
};

// ---- the output layer ----
// logits (N, V) from features (N, F): out(x) when untied; with tied
// embeddings out maps to the embedding size E and the target embedding's
// transpose to the vocabulary:  (W_o x + b_o) E_tgtᵀ + b_v,  E_tgt (V, E), b_v (V,).
Tensor output_logits(const nn::Linear& out, const Tensor& features, const Tensor& tied_embedding,
                     const Tensor& tied_bias);

// The same output layer with int8 weights, for decoding (Seq2Seq::quantize_for_decoding):
// out's weight, and with tied embeddings E_tgt (V, E) as the second product's weight.
struct Int8OutputLayer {
  Int8Linear out, tied;  // tied: undefined when untied
  bool defined() const { return out.defined(); }
};
Int8OutputLayer quantize_output(const nn::Linear& out, const Tensor& tied_embedding, const Tensor& tied_bias);
Tensor output_logits(const Int8OutputLayer& layer, const Tensor& features);

// ---- a vocabulary shortlist (Seq2Seq::restrict_output) ----
// Rows `ids` (U) of the product x Wᵀ + b whose rows are the vocabulary: W
// (V, F), b (V) or undefined, and the rows of its int8 version when defined.
std::shared_ptr<const RestrictedOutput> restrict_rows(const Tensor& ids, const Tensor& weight, const Tensor& bias,
                                                      const Int8Linear& int8 = {});
// logits (..., U) = x W[ids]ᵀ + b[ids] from x (..., F): with the int8 rows when
// the restriction has them, else float.
Tensor restricted_logits(const RestrictedOutput& rows, const Tensor& x);

// x (T, B, ...) at the flat positions `rows` (N) int64 of its first two axes, t·B + b as text::target_rows gives
// them: (N, ...), recorded (index_select), so the gradient flows back to those rows alone.
Tensor rows_at(const Tensor& x, const Tensor& rows);

}  // namespace tg::translate::detail
