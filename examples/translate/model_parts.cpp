#include "model_parts.h"

#include "core/error.h"
#include "ops/slice.h"
#include "ops/transpose.h"

namespace tg::translate::detail {

void check_config(const ModelConfig& config, const char* model) {
  if (config.src_vocab <= 4 || config.tgt_vocab <= 4)
    fail("{}: vocabularies need more than the 4 special tokens, got src_vocab={} tgt_vocab={}", model,
         config.src_vocab, config.tgt_vocab);
  if (config.embed <= 0 || config.hidden <= 0)
    fail("{}: embed and hidden must be positive, got embed={} hidden={}", model, config.embed, config.hidden);
  if (!(config.dropout >= 0 && config.dropout < 1))
    fail("{}: dropout must be in [0, 1), got {}", model, config.dropout);
}

void check_source(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask, const char* model) {
  check_defined(src, model, "src");
  check_defined(src_lengths, model, "src_lengths");
  check_defined(src_mask, model, "src_mask");
  if (src.ndim() != 2 || src.dtype() != DType::i64)
    fail("{}: src must be int64 (S, B), got {} {}", model, dtype_name(src.dtype()), src.shape().str());
  const int64_t S = src.size(0), B = src.size(1);
  if (!(src_lengths.shape() == Shape{B}) || src_lengths.dtype() != DType::i64)
    fail("{}: src_lengths must be int64 ({},) for src {}, got {} {}", model, B, src.shape().str(),
         dtype_name(src_lengths.dtype()), src_lengths.shape().str());
  if (!(src_mask.shape() == Shape{B, S}) || src_mask.dtype() != DType::boolean)
    fail("{}: src_mask must be bool ({}, {}) for src {}, got {} {}", model, B, S, src.shape().str(),
         dtype_name(src_mask.dtype()), src_mask.shape().str());
}

void check_target(const data::Batch& batch, const char* model) {
  check_defined(batch.tgt_in, model, "tgt_in");
  const Tensor& t = batch.tgt_in;
  if (t.ndim() != 2 || t.dtype() != DType::i64 || t.size(1) != batch.src.size(1))
    fail("{}: tgt_in must be int64 (T, {}) for src {}, got {} {}", model, batch.src.size(1),
         batch.src.shape().str(), dtype_name(t.dtype()), t.shape().str());
}

void check_step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden, int64_t hidden_size,
                const char* model) {
  check_defined(encoded.mask, model, "encoded.mask");
  check_defined(prev_tokens, model, "prev_tokens");
  check_defined(hidden, model, "hidden");
  const int64_t B = encoded.mask.size(0);
  if (!(prev_tokens.shape() == Shape{B}) || prev_tokens.dtype() != DType::i64)
    fail("{}: prev_tokens must be int64 ({},) for an encoding of {} sentences, got {} {}", model, B, B,
         dtype_name(prev_tokens.dtype()), prev_tokens.shape().str());
  if (!(hidden.shape() == Shape{B, hidden_size}))
    fail("{}: hidden must be ({}, {}), got {}", model, B, hidden_size, hidden.shape().str());
}

// W[:, begin:end]ᵀ: (out, in) -> (end - begin, out)
Tensor columns_t(const Tensor& weight, int64_t begin, int64_t end) {
  return transpose(slice(weight, 1, begin, end), 0, 1);
}

}  // namespace tg::translate::detail
