#include "nn/embedding.h"

#include "core/services/error.h"
#include "core/tensor/compute.h"
#include "nn/init.h"
#include "ops/embedding.h"
#include "ops/select.h"

namespace tg::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t dim, EmbeddingOptions options, Generator& gen)
    : num_embeddings_(num_embeddings), dim_(dim), padding_idx_(options.padding_idx) {
  check_parameter_dtype(options.dtype, "Embedding");
  const int64_t padding_idx = options.padding_idx;
  const DType dtype = options.dtype;
  if (num_embeddings <= 0 || dim <= 0)
    fail("Embedding: sizes must be positive, got num_embeddings={} dim={}", num_embeddings, dim);
  if (padding_idx < -1 || padding_idx >= num_embeddings)
    fail("Embedding: padding_idx must be in 0..{} or -1 for none, got {}", num_embeddings - 1, padding_idx);
  weight = Tensor::empty({num_embeddings, dim}, {dtype});  // (V, D)
  init::normal_(weight, 0.0, 1.0, gen);
  if (padding_idx >= 0) init::zeros_(detail::select_view(weight, 0, padding_idx));  // row (D,)
  register_parameter("weight", weight);
}

Tensor Embedding::forward(const Tensor& index) const {
  check_defined(index, "Embedding", "index");
  return embedding(weight, index, padding_idx_);  // (S...) -> (S..., D)
}

}  // namespace tg::nn
