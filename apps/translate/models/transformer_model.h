#pragma once
// The Transformer translation model (Vaswani et al. 2017) behind the same
// Seq2Seq interface as Cho's and Bahdanau's models, built from
// nn::TransformerEncoder/Decoder with PyTorch's layer names:
//
//   x = dropout(E_src[src]·√d + PE[0..S))                      (S, B, d)   d = config.embed
//   memory = encoder(x, key padding = not src_mask)             (S, B, d)   config.layers layers
//   y = dropout(E_tgt[tgt_in]·√d + PE[0..T))                    (T, B, d)
//   h = decoder(y, memory, causal, memory key padding)          (T, B, d)
//   logits = out(h) (V_tgt, d) + b,  or tied:  h E_tgtᵀ + b_v   (T, B, V)
//
// config.heads heads, config.hidden the feed-forward size, config.norm_first
// pre-norm layers (both stacks end in a LayerNorm, as nn.Transformer's).
// Every matrix starts Xavier-uniform (embeddings too, their <pad> row 0).
// Parameters: encoder.embed.weight, encoder.layers.{i}.*, encoder.norm.*,
// decoder.embed.weight, decoder.layers.{i}.*, decoder.norm.*, decoder.out.*
// (decoder.out_bias when tied).
//
// Decoding caches keys and values. encode() projects the memory once per
// decoder layer: Encoded::keys (B, S, L·2·d) holds layer l's cross-attention
// keys at [2l·d, (2l+1)·d) and values at [(2l+1)·d, (2l+2)·d). The decoder state
// after t steps is (B, t·L·2·d): per position, per layer, the self-attention
// key then value of that position (t = 0: (B, 0)). step() attends over the
// cached positions and appends its own, so a step costs O(t·d), not O(t·d²).
// Step::attention is the last layer's cross-attention, averaged over heads.
#include "core/services/generator.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "ops/int8_linear.h"
#include "nn/transformer.h"
#include "apps/translate/models/seq2seq.h"

namespace tg::translate {

struct TransformerSource : nn::TransformerEncoder {
  TransformerSource(const ModelConfig& config, const nn::TransformerLayerOptions& layer, Generator& gen);
  std::string type_name() const override { return "TransformerSource"; }
  nn::Embedding embed;  // (V_src, d)
  nn::Dropout dropout;  // on the embedded, position-encoded input
};

struct TransformerTarget : nn::TransformerDecoder {
  TransformerTarget(const ModelConfig& config, const nn::TransformerLayerOptions& layer, Generator& gen);
  std::string type_name() const override { return "TransformerTarget"; }
  nn::Embedding embed;  // (V_tgt, d)
  nn::Dropout dropout;
  std::unique_ptr<nn::Linear> out;  // (V_tgt, d), untied only
  Tensor out_bias;                  // tied only: b_v (V_tgt,)
  // logits (..., V) from decoder outputs (..., d).
  Tensor logits(const Tensor& h) const;
  // The output layer (E_tgt, or out's weight) with int8 weights once quantized for decoding; step() uses it then.
  Int8Linear int8_logits;
};

class TransformerModel : public Seq2Seq {
 public:
  TransformerModel(const ModelConfig& config, DType dtype = DType::f32, Generator& gen = default_generator());

  const ModelConfig& config() const override { return config_; }
  Encoded encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const override;
  Tensor forward(const text::Batch& batch) const override;
  Tensor forward_at(const text::Batch& batch, const Tensor& rows) const override;
  Step step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const override;
  std::string type_name() const override { return "TransformerModel"; }
  void quantize_for_decoding() override;
  bool quantized_for_decoding() const override { return decoder.int8_logits.defined(); }
  Encoded restrict_output(const Encoded& encoded, const Tensor& ids) const override;

  TransformerSource encoder;
  TransformerTarget decoder;

 private:
  // E[tokens]·√d + PE[first .. first + T), then dropout: tokens (T, B) -> (T, B, d).
  Tensor embed(const nn::Embedding& table, const nn::Dropout& dropout, const Tensor& tokens, int64_t first) const;
  // The memory of a source batch: (S, B, d).
  Tensor memory(const Tensor& src, const Tensor& src_mask) const;
  // The decoder's output for a batch, teacher forced: (T, B, d), what the output layer reads.
  Tensor decoder_output(const text::Batch& batch) const;
  // PE rows [first, first + T) as (T, 1, d), from a table kept between calls (grown on demand).
  Tensor positions(int64_t first, int64_t T, const Tensor& like) const;
  ModelConfig config_;
  mutable Tensor position_table_;  // (P, d), the sinusoids; not a parameter nor a buffer
};

}  // namespace tg::translate
