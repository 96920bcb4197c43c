#pragma once
// Checks and small pieces both translation models share (internal to the
// translate examples; not part of the Seq2Seq interface).
#include <cstdint>

#include "core/tensor.h"
#include "seq2seq.h"

namespace tg::translate::detail {

// Throws unless the vocabularies, sizes and dropout of `config` are usable;
// messages start with `model` ("ChoModel: hidden must be positive, got 0").
void check_config(const ModelConfig& config, const char* model);

// Throws unless src (S, B) int64, src_lengths (B) int64 and src_mask (B, S) bool agree.
void check_source(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask, const char* model);

// Throws unless batch.tgt_in is (T, B) int64 with the source's B.
void check_target(const data::Batch& batch, const char* model);

// Throws unless prev_tokens (B) int64 and hidden (B, H) fit an encoding of B sentences.
void check_step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden, int64_t hidden_size,
                const char* model);

// The columns begin..end of a weight (out, in), transposed for x @ Wᵀ:
// (end - begin, out), a view (no copy); gradients flow back into `weight`.
Tensor columns_t(const Tensor& weight, int64_t begin, int64_t end);

}  // namespace tg::translate::detail
