#pragma once
#include "core/services/generator.h"
#include "nn/layer_options.h"
#include "nn/module.h"

namespace tg::nn {

// A lookup table of learned vectors: y[s, :] = weight[index[s], :];
//   index int64 (S...) -> y (S..., D).
// weight (V, D) ~ N(0, 1) as in PyTorch. The row padding_idx (when ≥ 0) starts
// at zero and receives no gradient, so it stays zero; -1 means no padding row.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim, EmbeddingOptions options = {},
            Generator& gen = default_generator());
  // Defaults, with a generator of one's own.
  Embedding(int64_t num_embeddings, int64_t dim, Generator& gen) : Embedding(num_embeddings, dim, {}, gen) {}
  // The older form: padding row and dtype as arguments.
  Embedding(int64_t num_embeddings, int64_t dim, int64_t padding_idx, DType dtype = default_dtype(),
            Generator& gen = default_generator())
      : Embedding(num_embeddings, dim, {.padding_idx = padding_idx, .dtype = dtype}, gen) {}
  Tensor forward(const Tensor& index) const;
  Tensor operator()(const Tensor& index) const { return forward(index); }
  std::string type_name() const override { return "Embedding"; }

  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t dim() const { return dim_; }
  int64_t padding_idx() const { return padding_idx_; }

  Tensor weight;  // (V, D)

 private:
  int64_t num_embeddings_, dim_, padding_idx_;
};

}  // namespace tg::nn
