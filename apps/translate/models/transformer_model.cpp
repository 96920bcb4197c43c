#include "apps/translate/models/transformer_model.h"

#include <cmath>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "data/text/vocab.h"
#include "nn/init.h"
#include "ops/add.h"
#include "ops/concat.h"
#include "ops/linear.h"
#include "ops/logical.h"
#include "ops/mul.h"
#include "ops/reshape.h"
#include "ops/slice.h"
#include "ops/softmax.h"
#include "ops/transpose.h"
#include "apps/translate/models/model_parts.h"

namespace tg::translate {

namespace {

nn::TransformerLayerOptions layer_options(const ModelConfig& c, DType dtype) {
  detail::check_config(c, "TransformerModel");
  return {.dim_feedforward = c.hidden, .dropout = c.dropout, .norm_first = c.norm_first, .dtype = dtype};
}

// Xavier-uniform for every matrix of `module` (embeddings too), as the PyTorch
// translation tutorial and nn.Transformer do; the <pad> rows back to 0.
void initialise(nn::Module& module, nn::Embedding& src, nn::Embedding& tgt, Generator& gen) {
  NoGrad no_grad;
  for (auto& [name, p] : module.named_parameters())
    if (p.ndim() > 1) nn::init::xavier_uniform_(p, 1.0, gen);
  for (nn::Embedding* e : {&src, &tgt}) {
    Tensor pad = slice(e->weight, 0, text::Vocab::pad_id, text::Vocab::pad_id + 1);
    pad.copy_(zeros(pad.shape(), {pad.dtype(), pad.device()}));
  }
}

// Rows [begin, begin + d) of the last axis of t (N, S, W), time-major: (S, N, d).
Tensor part(const Tensor& t, int64_t begin, int64_t d) { return transpose(slice(t, 2, begin, begin + d), 0, 1); }

}  // namespace

TransformerSource::TransformerSource(const ModelConfig& c, const nn::TransformerLayerOptions& layer, Generator& gen)
    : nn::TransformerEncoder(c.embed, c.heads, c.layers, layer, true, gen),
      embed(c.src_vocab, c.embed, text::Vocab::pad_id, layer.dtype, gen),
      dropout(c.dropout, gen.next_u64()) {
  register_module("embed", embed);
  register_module("dropout", dropout);
}

TransformerTarget::TransformerTarget(const ModelConfig& c, const nn::TransformerLayerOptions& layer, Generator& gen)
    : nn::TransformerDecoder(c.embed, c.heads, c.layers, layer, true, gen),
      embed(c.tgt_vocab, c.embed, text::Vocab::pad_id, layer.dtype, gen),
      dropout(c.dropout, gen.next_u64()) {
  register_module("embed", embed);
  register_module("dropout", dropout);
  if (c.tie_embeddings) {
    out_bias = zeros({c.tgt_vocab}, {layer.dtype}).requires_grad_();
    register_parameter("out_bias", out_bias);
  } else {
    out = std::make_unique<nn::Linear>(c.embed, c.tgt_vocab, nn::LayerOptions{.dtype = layer.dtype}, gen);
    register_module("out", *out);
  }
}

Tensor TransformerTarget::logits(const Tensor& h) const {
  if (out) return (*out)(h);
  return linear(h, embed.weight, out_bias);  // h E_tgtᵀ + b_v
}

TransformerModel::TransformerModel(const ModelConfig& config, DType dtype, Generator& gen)
    : encoder(config, layer_options(config, dtype), gen),
      decoder(config, layer_options(config, dtype), gen),
      config_(config) {
  config_.kind = "transformer";
  register_module("encoder", encoder);
  register_module("decoder", decoder);
  initialise(*this, encoder.embed, decoder.embed, gen);
}

Tensor TransformerModel::positions(int64_t first, int64_t T, const Tensor& like) const {
  const int64_t needed = first + T, d = config_.embed;
  if (!position_table_.defined() || position_table_.size(0) < needed || position_table_.device() != like.device() ||
      position_table_.dtype() != like.dtype())
    position_table_ = nn::sinusoidal_positions(std::max<int64_t>(needed, 256), d, {like.dtype(), like.device()});
  return reshape(slice(position_table_, 0, first, needed), Shape{T, 1, d});
}

Tensor TransformerModel::embed(const nn::Embedding& table, const nn::Dropout& dropout, const Tensor& tokens,
                               int64_t first) const {
  const Tensor e = table(tokens);  // (T, B, d)
  const double scale = std::sqrt(static_cast<double>(config_.embed));
  return dropout(add(mul(e, scale), positions(first, tokens.size(0), e)));
}

Tensor TransformerModel::memory(const Tensor& src, const Tensor& src_mask) const {
  const Tensor x = embed(encoder.embed, encoder.dropout, src, 0);  // (S, B, d)
  return encoder(x, {.key_padding_mask = logical_not(src_mask)});  // (S, B, d)
}

Tensor TransformerModel::forward(const text::Batch& batch) const {
  return decoder.logits(decoder_output(batch));  // (T, B, V)
}

Tensor TransformerModel::forward_at(const text::Batch& batch, const Tensor& rows) const {
  return decoder.logits(detail::rows_at(decoder_output(batch), rows));  // (T, B, d) -> (N, d) -> (N, V)
}

Tensor TransformerModel::decoder_output(const text::Batch& batch) const {
  detail::check_source(batch.src, batch.src_lengths, batch.src_mask, "TransformerModel");
  detail::check_target(batch, "TransformerModel");
  const Tensor m = memory(batch.src, batch.src_mask);
  const Tensor y = embed(decoder.embed, decoder.dropout, batch.tgt_in, 0);  // (T, B, d)
  return decoder(y, m, {.is_causal = true}, {.key_padding_mask = logical_not(batch.src_mask)});  // (T, B, d)
}

Encoded TransformerModel::encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const {
  detail::check_source(src, src_lengths, src_mask, "TransformerModel");
  const Tensor m = memory(src, src_mask);  // (S, B, d)
  std::vector<Tensor> keys_values;         // per layer: K_l, V_l (S, B, d)
  for (const nn::TransformerDecoderLayer& layer : decoder.layers) {
    keys_values.push_back(layer.multihead_attn.in_projection(m, 1));
    keys_values.push_back(layer.multihead_attn.in_projection(m, 2));
  }
  Encoded encoded;
  encoded.keys = transpose(concat(keys_values, 2), 0, 1).contiguous();  // (B, S, L·2·d)
  encoded.mask = src_mask;                                               // (B, S)
  encoded.initial_hidden = zeros({src.size(1), 0}, {m.dtype(), m.device()});
  return encoded;
}

Step TransformerModel::step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const {
  const char* model = "TransformerModel";
  check_defined(encoded.keys, model, "encoded.keys");
  const int64_t d = config_.embed, L = config_.layers, width = L * 2 * d;
  detail::check_step(encoded, prev_tokens, hidden, hidden.defined() ? hidden.size(-1) : 0, model);
  if (hidden.size(1) % width != 0)
    fail("{}: the decoder state must be (B, t·{}) (t cached positions of {} layers' keys and values of size {}), "
         "got {}",
         model, width, L, d, hidden.shape().str());
  const int64_t N = prev_tokens.size(0), t = hidden.size(1) / width;
  const Tensor cache = reshape(hidden, Shape{N, t, width});  // (N, t, L·2·d)
  const Tensor ignore = logical_not(encoded.mask);           // (N, S)
  Tensor x = embed(decoder.embed, decoder.dropout, reshape(prev_tokens, Shape{1, N}), t);  // (1, N, d)
  std::vector<Tensor> appended;  // this position's K_l, V_l (1, N, d)
  Tensor attention;
  for (int64_t l = 0; l < L; ++l) {
    const nn::TransformerDecoderLayer& layer = decoder.layers[static_cast<size_t>(l)];
    const bool pre = config_.norm_first;
    // Self-attention over the cached positions and this one.
    const Tensor h = pre ? layer.norm1(x) : x;
    const Tensor q = layer.self_attn.in_projection(h, 0);
    Tensor k = layer.self_attn.in_projection(h, 1), v = layer.self_attn.in_projection(h, 2);  // (1, N, d)
    appended.push_back(k);
    appended.push_back(v);
    if (t > 0) {
      k = concat({part(cache, 2 * l * d, d), k}, 0);  // (t + 1, N, d)
      v = concat({part(cache, (2 * l + 1) * d, d), v}, 0);
    }
    const Tensor sa = layer.dropout1(layer.self_attn.attend(q, k, v, {.need_weights = false}).output);
    x = pre ? x + sa : layer.norm1(x + sa);
    // Attention over the memory's cached projections.
    const Tensor h2 = pre ? layer.norm2(x) : x;
    const nn::MultiheadAttentionOutput cross = layer.multihead_attn.attend(
        layer.multihead_attn.in_projection(h2, 0), part(encoded.keys, 2 * l * d, d),
        part(encoded.keys, (2 * l + 1) * d, d), {.key_padding_mask = ignore, .need_weights = l == L - 1});
    x = pre ? x + layer.dropout2(cross.output) : layer.norm2(x + layer.dropout2(cross.output));
    x = pre ? x + layer.feed_forward(layer.norm3(x)) : layer.norm3(x + layer.feed_forward(x));
    if (l == L - 1) attention = reshape(cross.weights, Shape{N, encoded.mask.size(1)});  // (N, 1, S) -> (N, S)
  }
  const Tensor out = decoder.norm ? (*decoder.norm)(x) : x;
  Step result;
  const Tensor h = reshape(out, Shape{N, d});
  const Tensor logits = encoded.shortlist         ? detail::restricted_logits(*encoded.shortlist, h)  // (N, U)
                        : decoder.int8_logits.defined() ? decoder.int8_logits(h)
                                                        : decoder.logits(h);  // (N, V)
  result.log_probs = log_softmax(logits, -1);
  const Tensor position = reshape(transpose(concat(appended, 2), 0, 1), Shape{N, width});  // (N, L·2·d)
  result.hidden = t == 0 ? position : concat({hidden, position}, 1);                     // (N, (t + 1)·L·2·d)
  result.attention = attention;
  return result;
}

Encoded TransformerModel::restrict_output(const Encoded& encoded, const Tensor& ids) const {
  Encoded restricted = encoded;
  restricted.shortlist = decoder.out ? detail::restrict_rows(ids, decoder.out->weight, decoder.out->bias, decoder.int8_logits)
                                     : detail::restrict_rows(ids, decoder.embed.weight, decoder.out_bias, decoder.int8_logits);
  return restricted;
}

void TransformerModel::quantize_for_decoding() {
  decoder.int8_logits = decoder.out ? Int8Linear::quantize(decoder.out->weight, decoder.out->bias)
                                    : Int8Linear::quantize(decoder.embed.weight, decoder.out_bias);  // (V, d) rows
}

}  // namespace tg::translate
