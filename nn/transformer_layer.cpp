#include "nn/transformer_layer.h"

#include "core/services/error.h"
#include "ops/add.h"
#include "ops/gelu.h"
#include "ops/relu.h"

namespace tg::nn {

namespace {

MultiheadAttentionOptions attention_options(const TransformerLayerOptions& o) {
  return {.dropout = o.dropout, .batch_first = o.batch_first, .dtype = o.dtype};
}

LayerNormOptions norm_options(const TransformerLayerOptions& o) { return {.eps = o.layer_norm_eps, .dtype = o.dtype}; }

void check_options(const TransformerLayerOptions& o, const char* layer) {
  if (o.activation != "relu" && o.activation != "gelu")
    fail("{}: activation must be \"relu\" or \"gelu\", got \"{}\"", layer, o.activation);
  if (o.dim_feedforward <= 0) fail("{}: dim_feedforward must be positive, got {}", layer, o.dim_feedforward);
}

}  // namespace

Tensor activation(const std::string& name, const Tensor& x) {
  if (name == "relu") return relu(x);
  if (name == "gelu") return gelu(x);
  fail("Transformer layer: activation must be \"relu\" or \"gelu\", got \"{}\"", name);
}

Tensor attention_output(const MultiheadAttention& attention, const Tensor& query, const Tensor& key_value,
                        const LayerMasks& masks) {
  return attention(query, key_value, key_value,
                   {.key_padding_mask = masks.key_padding_mask,
                    .attn_mask = masks.attn_mask,
                    .need_weights = false,
                    .is_causal = masks.is_causal})
      .output;
}

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model, int64_t nhead, TransformerLayerOptions options,
                                                 Generator& gen)
    : self_attn((check_options(options, "TransformerEncoderLayer"), d_model), nhead, attention_options(options), gen),
      linear1(d_model, options.dim_feedforward, {.dtype = options.dtype}, gen),
      linear2(options.dim_feedforward, d_model, {.dtype = options.dtype}, gen),
      norm1(Shape{d_model}, norm_options(options)),
      norm2(Shape{d_model}, norm_options(options)),
      dropout(options.dropout, gen.next_u64()),
      dropout1(options.dropout, gen.next_u64()),
      dropout2(options.dropout, gen.next_u64()),
      options_(std::move(options)) {
  register_module("self_attn", self_attn);
  register_module("linear1", linear1);
  register_module("dropout", dropout);
  register_module("linear2", linear2);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("dropout1", dropout1);
  register_module("dropout2", dropout2);
}

Tensor TransformerEncoderLayer::feed_forward(const Tensor& x) const {
  return dropout2(linear2(dropout(activation(options_.activation, linear1(x)))));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const LayerMasks& mask) const {
  check_defined(src, "TransformerEncoderLayer", "src");
  auto sa = [&](const Tensor& x) { return dropout1(attention_output(self_attn, x, x, mask)); };
  if (options_.norm_first) {
    const Tensor x = src + sa(norm1(src));
    return x + feed_forward(norm2(x));
  }
  const Tensor x = norm1(src + sa(src));
  return norm2(x + feed_forward(x));
}

TransformerDecoderLayer::TransformerDecoderLayer(int64_t d_model, int64_t nhead, TransformerLayerOptions options,
                                                 Generator& gen)
    : self_attn((check_options(options, "TransformerDecoderLayer"), d_model), nhead, attention_options(options), gen),
      multihead_attn(d_model, nhead, attention_options(options), gen),
      linear1(d_model, options.dim_feedforward, {.dtype = options.dtype}, gen),
      linear2(options.dim_feedforward, d_model, {.dtype = options.dtype}, gen),
      norm1(Shape{d_model}, norm_options(options)),
      norm2(Shape{d_model}, norm_options(options)),
      norm3(Shape{d_model}, norm_options(options)),
      dropout(options.dropout, gen.next_u64()),
      dropout1(options.dropout, gen.next_u64()),
      dropout2(options.dropout, gen.next_u64()),
      dropout3(options.dropout, gen.next_u64()),
      options_(std::move(options)) {
  register_module("self_attn", self_attn);
  register_module("multihead_attn", multihead_attn);
  register_module("linear1", linear1);
  register_module("dropout", dropout);
  register_module("linear2", linear2);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("norm3", norm3);
  register_module("dropout1", dropout1);
  register_module("dropout2", dropout2);
  register_module("dropout3", dropout3);
}

Tensor TransformerDecoderLayer::feed_forward(const Tensor& x) const {
  return dropout3(linear2(dropout(activation(options_.activation, linear1(x)))));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const LayerMasks& tgt_mask,
                                        const LayerMasks& memory_mask) const {
  check_defined(tgt, "TransformerDecoderLayer", "tgt");
  check_defined(memory, "TransformerDecoderLayer", "memory");
  auto sa = [&](const Tensor& x) { return dropout1(attention_output(self_attn, x, x, tgt_mask)); };
  auto ca = [&](const Tensor& x) { return dropout2(attention_output(multihead_attn, x, memory, memory_mask)); };
  if (options_.norm_first) {
    Tensor x = tgt + sa(norm1(tgt));
    x = x + ca(norm2(x));
    return x + feed_forward(norm3(x));
  }
  Tensor x = norm1(tgt + sa(tgt));
  x = norm2(x + ca(x));
  return norm3(x + feed_forward(x));
}

}  // namespace tg::nn
