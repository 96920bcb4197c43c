#pragma once
// Stacks of Transformer layers and the whole encoder-decoder, with PyTorch's
// names (torch.nn.TransformerEncoder, TransformerDecoder, Transformer):
//
//   TransformerEncoder: layers.0 .. layers.{n-1}, norm (when built with a final norm)
//   Transformer:        encoder.layers.*, encoder.norm, decoder.layers.*, decoder.norm
//
// PyTorch builds a stack from one layer it deep-copies; here a stack is built
// from the layer's sizes and options, every layer initialised from `gen` in
// turn. nn::Transformer initialises every weight matrix Xavier-uniform, as
// PyTorch's does (its biases keep their layers' initialisation).
#include <cstdint>

#include "nn/layer_norm.h"
#include "nn/module_list.h"
#include "nn/transformer_layer.h"

namespace tg::nn {

class TransformerEncoder : public Module {
 public:
  TransformerEncoder(int64_t d_model, int64_t nhead, int64_t num_layers, TransformerLayerOptions options = {},
                     bool final_norm = false, Generator& gen = default_generator());
  // src (S, N, E) -> (S, N, E) (N first with batch_first): every layer, then norm.
  Tensor forward(const Tensor& src, const LayerMasks& mask = {}) const;
  Tensor operator()(const Tensor& src, const LayerMasks& mask = {}) const { return forward(src, mask); }
  std::string type_name() const override { return "TransformerEncoder"; }

  ModuleListOf<TransformerEncoderLayer> layers;
  std::unique_ptr<LayerNorm> norm;  // null without a final norm
};

class TransformerDecoder : public Module {
 public:
  TransformerDecoder(int64_t d_model, int64_t nhead, int64_t num_layers, TransformerLayerOptions options = {},
                     bool final_norm = false, Generator& gen = default_generator());
  // tgt (T, N, E), memory (S, N, E) -> (T, N, E).
  Tensor forward(const Tensor& tgt, const Tensor& memory, const LayerMasks& tgt_mask = {},
                 const LayerMasks& memory_mask = {}) const;
  Tensor operator()(const Tensor& tgt, const Tensor& memory, const LayerMasks& tgt_mask = {},
                    const LayerMasks& memory_mask = {}) const {
    return forward(tgt, memory, tgt_mask, memory_mask);
  }
  std::string type_name() const override { return "TransformerDecoder"; }

  ModuleListOf<TransformerDecoderLayer> layers;
  std::unique_ptr<LayerNorm> norm;  // null without a final norm
};

struct TransformerOptions {
  int64_t d_model = 512, nhead = 8, num_encoder_layers = 6, num_decoder_layers = 6;
  TransformerLayerOptions layer;  // dim_feedforward, dropout, activation, eps, batch_first, norm_first
};

// The encoder-decoder of nn.Transformer: memory = encoder(src), output = decoder(tgt, memory),
// both stacks ending in a LayerNorm. No embeddings and no output layer, as PyTorch's.
class Transformer : public Module {
 public:
  explicit Transformer(TransformerOptions options = {}, Generator& gen = default_generator());
  // src (S, N, E), tgt (T, N, E) -> (T, N, E) (N first with batch_first).
  Tensor forward(const Tensor& src, const Tensor& tgt, const LayerMasks& src_mask = {},
                 const LayerMasks& tgt_mask = {}, const LayerMasks& memory_mask = {}) const;
  Tensor operator()(const Tensor& src, const Tensor& tgt, const LayerMasks& src_mask = {},
                    const LayerMasks& tgt_mask = {}, const LayerMasks& memory_mask = {}) const {
    return forward(src, tgt, src_mask, tgt_mask, memory_mask);
  }
  std::string type_name() const override { return "Transformer"; }
  const TransformerOptions& options() const { return options_; }

  TransformerEncoder encoder;
  TransformerDecoder decoder;

 private:
  TransformerOptions options_;
};

// PyTorch's Transformer.generate_square_subsequent_mask: (n, n) float, 0 on and
// below the diagonal, -inf above (position i may attend to j <= i).
Tensor square_subsequent_mask(int64_t n, TensorOptions options = {});

// Sinusoidal position encodings (Vaswani et al. 2017, section 3.5), (length, dim):
//   PE[p, 2i] = sin(p / 10000^(2i/dim)),  PE[p, 2i+1] = cos(p / 10000^(2i/dim))
// computed in float64 and converted; added to the (scaled) embeddings.
Tensor sinusoidal_positions(int64_t length, int64_t dim, TensorOptions options = {});

}  // namespace tg::nn
