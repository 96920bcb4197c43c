#pragma once
// The interface the translation models implement (Cho et al. 2014's RNN
// encoder-decoder, Bahdanau et al. 2014's attention model and the
// Transformer of Vaswani et al. 2017), so that
// training, greedy and beam search and the `translate` program work with
// either. Tensors are time-major: a source batch is (S, B), targets (T, B).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "data/text/batching.h"
#include "nn/module.h"
#include "ops/int8_linear.h"
#include "ops/loss.h"

namespace tg::translate {

struct ModelConfig {
  std::string kind = "bahdanau";  // "cho", "bahdanau" or "transformer"
  std::string cell = "gru";       // the encoder's and decoder's recurrent cell: "gru" or "lstm"
  int64_t src_vocab = 0;
  int64_t tgt_vocab = 0;
  int64_t embed = 256;   // the embedding size; the Transformer's d_model
  int64_t hidden = 512;  // the recurrent state size; the Transformer's feed-forward size
  // Transformer only: layers of the encoder and of the decoder, attention
  // heads, pre-norm (norm_first) layers.
  int64_t layers = 3;
  int64_t heads = 4;
  bool norm_first = true;
  double dropout = 0.2;
  // Bahdanau and Transformer: the target embedding E_tgt (V, E) doubles as the output
  // matrix (Press & Wolf 2017): logits = (W_o [s; c; E y] + b_o) E_tgtᵀ + b_v
  // (the Transformer: h E_tgtᵀ + b_v).
  bool tie_embeddings = false;
  // Memory for compute: the encoder's recurrence keeps nothing between the
  // forward and backward and runs again in backward (tg::recompute). Not a
  // property of the weights: not written to checkpoints.
  bool recompute_encoder = false;
};

class Shortlist;

// The output layer restricted to a vocabulary shortlist for one batch
// (Seq2Seq::restrict_output): step's log_probs then have U columns, column u
// standing for target id ids[u], normalised over those U words alone.
struct RestrictedOutput {
  Tensor ids;           // (U) int64, ascending, on the model's device
  Tensor weight, bias;  // rows ids of the product whose rows are the vocabulary: (U, F), (U) or undefined
  Int8Linear int8;      // the same rows with int8 weights, when the model decodes quantized
  std::vector<std::shared_ptr<const RestrictedOutput>> members;  // an ensemble's: one per member
};

// What the encoder hands the decoder for one source batch.
struct Encoded {
  Tensor keys;            // (B, S, K) encoder outputs to attend over; undefined for Cho
  Tensor projected_keys;  // (B, S, A) attention key projection, computed once per batch
  Tensor context;         // (B, C) the fixed summary c (Cho); undefined for Bahdanau
  Tensor mask;            // (B, S) bool, true on real source tokens
  Tensor initial_hidden;  // (B, H) decoder state before the first step; (B, 2H) [h; c] with an LSTM cell
  // Cho, when encoded for decoding (no gradient): the fixed context's share of
  // every step's products, computed once: c W_ih^cᵀ + b_ih (B, 3H) (4H for an
  // LSTM) and c W_o^cᵀ + b_o (B, V). Undefined otherwise; step computes them.
  // Cho with a shortlist: context_output is (B, U), the shortlist's columns.
  Tensor context_input, context_output;
  // Decoding on a shortlist: its rows of the output layer; null decodes the whole vocabulary.
  std::shared_ptr<const RestrictedOutput> shortlist;
};

// What Seq2Seq::loss computes: the cross entropy of the target tokens.
struct LossOptions {
  double label_smoothing = 0;  // ε > 0: against (1-ε)·one-hot + ε/V (training; validation keeps 0)
  Reduction reduction = Reduction::mean;  // mean over the batch's target tokens, or their sum (data-parallel shares)
};

// One decoder step's result.
struct Step {
  Tensor log_probs;  // (B, V) log-probabilities of the next token
  Tensor hidden;     // (B, H) decoder state after the step; (B, 2H) [h; c] with an LSTM cell
  Tensor attention;  // (B, S) attention weights (Bahdanau); undefined for Cho
};

class Seq2Seq : public nn::Module {
 public:
  virtual const ModelConfig& config() const = 0;
  // Encodes a padded source batch: src (S, B) int64, lengths (B) int64, mask (B, S) bool.
  virtual Encoded encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const = 0;
  // Teacher forcing: logits (T, B, V) for a batch whose decoder inputs are tgt_in (T, B).
  virtual Tensor forward(const text::Batch& batch) const = 0;
  // Teacher forcing's logits at some positions only: rows (N) int64, ascending flat indices t·B + b into
  // (T, B), on the model's device -> (N, V), forward's rows. The models run their output layer on those rows
  // alone (loss: the target tokens, padding skipped); this default computes forward's and picks the rows.
  virtual Tensor forward_at(const text::Batch& batch, const Tensor& rows) const;
  // The training loss of a batch on the model's device (Batch::to): forward's
  // logits z (T·B, V) against the targets y = tgt_out (T·B), padding ignored,
  //   L = −Σ_t log softmax(z_t)[y_t] / N,   N = batch.num_tgt_tokens
  // (no / N with Reduction::sum). The logits are computed at the target tokens
  // alone (forward_at text::target_rows(batch)); Reduction::none keeps all T·B.
  Tensor loss(const text::Batch& batch, const LossOptions& options = {}) const;
  // One decoding step from the previous tokens (B) int64 and the state (B, H), or (B, 2H) with an LSTM cell.
  virtual Step step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const = 0;

  // Decoding with int8 weights: quantizes, once, the weights of
  // the products decoding runs (per row; tg::Int8Linear), which then run with
  // int8 weights and inputs quantized per row. The Transformer: step()'s
  // output layer. The recurrent models: step()'s output layer, the cell's
  // W_ih and W_hh and Bahdanau's attention W_q, and the encoder's recurrent
  // network (nn::RecurrentNetwork::quantize_for_inference), which forward()
  // shares with encode(): their forward() then gives int8 logits, and training
  // throws (no gradient through int8 products). A snapshot: after changing
  // the weights, call it again. The default throws, naming the model.
  virtual void quantize_for_decoding();
  // Whether step() runs quantized products.
  virtual bool quantized_for_decoding() const { return false; }

  // Decoding on a vocabulary shortlist: `encoded` with the output layer
  // restricted to target ids `ids` ((U) int64, ascending, on the model's
  // device): the rows of its last product (int8 rows too when quantized), and
  // Cho's per-sentence output share. step() then gives log_probs (B, U).
  // The default throws, naming the model.
  virtual Encoded restrict_output(const Encoded& encoded, const Tensor& ids) const;

  // The shortlist greedy and beam search decode on (apps/translate/shortlist.h):
  // each batch's union of its source tokens' lists; null (the default) decodes
  // the whole vocabulary.
  void use_shortlist(std::shared_ptr<const Shortlist> shortlist) { shortlist_ = std::move(shortlist); }
  const Shortlist* shortlist() const { return shortlist_.get(); }

 private:
  std::shared_ptr<const Shortlist> shortlist_;
};

// The model of config.kind, initialised from `seed`.
std::unique_ptr<Seq2Seq> make_model(const ModelConfig& config, uint64_t seed);

// Rows `rows` (int64, (N,)) of every defined tensor of an encoding, batch axis
// first: beam search repeats a sentence's encoding per hypothesis with it.
Encoded select_rows(const Encoded& encoded, const Tensor& rows);

}  // namespace tg::translate
