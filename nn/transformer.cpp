#include "nn/transformer.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/tensor/creation.h"
#include "core/services/error.h"
#include "core/autograd/grad_mode.h"
#include "nn/init.h"

namespace tg::nn {

namespace {

std::unique_ptr<LayerNorm> final_norm_of(bool wanted, int64_t d_model, const TransformerLayerOptions& options) {
  if (!wanted) return nullptr;
  return std::make_unique<LayerNorm>(Shape{d_model}, LayerNormOptions{.eps = options.layer_norm_eps,
                                                                      .dtype = options.dtype});
}

void check_layer_count(int64_t n, const char* stack) {
  if (n <= 0) fail("{}: num_layers must be positive, got {}", stack, n);
}

}  // namespace

TransformerEncoder::TransformerEncoder(int64_t d_model, int64_t nhead, int64_t num_layers,
                                       TransformerLayerOptions options, bool final_norm, Generator& gen) {
  check_layer_count(num_layers, "TransformerEncoder");
  for (int64_t i = 0; i < num_layers; ++i) layers.push_back<TransformerEncoderLayer>(d_model, nhead, options, gen);
  register_module("layers", layers);
  norm = final_norm_of(final_norm, d_model, options);
  if (norm) register_module("norm", *norm);
}

Tensor TransformerEncoder::forward(const Tensor& src, const LayerMasks& mask) const {
  Tensor x = src;
  for (const TransformerEncoderLayer& layer : layers) x = layer(x, mask);
  return norm ? (*norm)(x) : x;
}

TransformerDecoder::TransformerDecoder(int64_t d_model, int64_t nhead, int64_t num_layers,
                                       TransformerLayerOptions options, bool final_norm, Generator& gen) {
  check_layer_count(num_layers, "TransformerDecoder");
  for (int64_t i = 0; i < num_layers; ++i) layers.push_back<TransformerDecoderLayer>(d_model, nhead, options, gen);
  register_module("layers", layers);
  norm = final_norm_of(final_norm, d_model, options);
  if (norm) register_module("norm", *norm);
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const LayerMasks& tgt_mask,
                                   const LayerMasks& memory_mask) const {
  Tensor x = tgt;
  for (const TransformerDecoderLayer& layer : layers) x = layer(x, memory, tgt_mask, memory_mask);
  return norm ? (*norm)(x) : x;
}

Transformer::Transformer(TransformerOptions options, Generator& gen)
    : encoder(options.d_model, options.nhead, options.num_encoder_layers, options.layer, true, gen),
      decoder(options.d_model, options.nhead, options.num_decoder_layers, options.layer, true, gen),
      options_(std::move(options)) {
  register_module("encoder", encoder);
  register_module("decoder", decoder);
  NoGrad no_grad;
  for (auto& [name, p] : named_parameters())
    if (p.ndim() > 1) init::xavier_uniform_(p, 1.0, gen);
}

Tensor Transformer::forward(const Tensor& src, const Tensor& tgt, const LayerMasks& src_mask,
                            const LayerMasks& tgt_mask, const LayerMasks& memory_mask) const {
  check_defined(src, "Transformer", "src");
  check_defined(tgt, "Transformer", "tgt");
  const int batch_axis = options_.layer.batch_first ? 0 : 1;
  if (src.ndim() != tgt.ndim() || (src.ndim() == 3 && src.size(batch_axis) != tgt.size(batch_axis)))
    fail("Transformer: src {} and tgt {} must have the same batch size{}", src.shape().str(), tgt.shape().str(),
         options_.layer.batch_first ? " (batch_first: axis 0)" : " (axis 1)");
  if (src.size(-1) != options_.d_model || tgt.size(-1) != options_.d_model)
    fail("Transformer: src {} and tgt {} must end in d_model {}", src.shape().str(), tgt.shape().str(),
         options_.d_model);
  return decoder(tgt, encoder(src, src_mask), tgt_mask, memory_mask);
}

Tensor square_subsequent_mask(int64_t n, TensorOptions options) {
  if (n <= 0) fail("square_subsequent_mask: n must be positive, got {}", n);
  std::vector<double> values(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) values[i * n + j] = -std::numeric_limits<double>::infinity();
  return from_vector(values, Shape{n, n}, {DType::f64}).to(options.dtype).to(options.device);
}

Tensor sinusoidal_positions(int64_t length, int64_t dim, TensorOptions options) {
  if (length <= 0 || dim <= 0) fail("sinusoidal_positions: length and dim must be positive, got {} and {}", length, dim);
  std::vector<double> values(static_cast<size_t>(length * dim));
  for (int64_t p = 0; p < length; ++p)
    for (int64_t i = 0; i < dim; ++i) {
      const double angle = static_cast<double>(p) / std::pow(10000.0, static_cast<double>(i - i % 2) / dim);
      values[p * dim + i] = i % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  return from_vector(values, Shape{length, dim}, {DType::f64}).to(options.dtype).to(options.device);
}

}  // namespace tg::nn
