#include "apps/translate/models/seq2seq.h"

#include "apps/translate/models/bahdanau_model.h"
#include "apps/translate/models/cho_model.h"
#include "apps/translate/models/model_parts.h"
#include "apps/translate/models/transformer_model.h"
#include "core/services/error.h"
#include "core/services/generator.h"
#include "data/text/vocab.h"
#include "ops/cross_entropy.h"
#include "ops/index_select.h"
#include "ops/reshape.h"

namespace tg::translate {

std::unique_ptr<Seq2Seq> make_model(const ModelConfig& config, uint64_t seed) {
  Generator gen(seed);
  if (config.kind == "cho") return std::make_unique<ChoModel>(config, DType::f32, gen);
  if (config.kind == "bahdanau") return std::make_unique<BahdanauModel>(config, DType::f32, gen);
  if (config.kind == "transformer") return std::make_unique<TransformerModel>(config, DType::f32, gen);
  fail("make_model: unknown model kind '{}'; known kinds: cho, bahdanau, transformer", config.kind);
}

Tensor Seq2Seq::loss(const text::Batch& batch, const LossOptions& options) const {
  check_defined(batch.tgt_out, type_name().c_str(), "tgt_out");
  CrossEntropyOptions cross_entropy_options;
  cross_entropy_options.label_smoothing = options.label_smoothing;
  cross_entropy_options.ignore_index = text::Vocab::pad_id;
  cross_entropy_options.reduction = options.reduction;
  if (options.reduction == Reduction::none) {
    const Tensor logits = forward(batch);  // (T, B, V)
    return cross_entropy(reshape(logits, Shape{-1, logits.size(2)}), reshape(batch.tgt_out, Shape{-1}),
                         cross_entropy_options);
  }
  // The output layer and the softmax on the target tokens alone: padding's logits would only be ignored.
  const Tensor rows = text::target_rows(batch);  // (N)
  return cross_entropy(forward_at(batch, rows), detail::rows_at(batch.tgt_out, rows), cross_entropy_options);
}

Tensor Seq2Seq::forward_at(const text::Batch& batch, const Tensor& rows) const {
  return detail::rows_at(forward(batch), rows);  // (T, B, V) -> (N, V)
}

void Seq2Seq::quantize_for_decoding() {
  fail("{}: no int8 decoding for this model (quantize_for_decoding is not implemented)", type_name());
}

Encoded Seq2Seq::restrict_output(const Encoded&, const Tensor&) const {
  fail("{}: no shortlist decoding for this model (restrict_output is not implemented)", type_name());
}

Encoded select_rows(const Encoded& encoded, const Tensor& rows) {
  check_defined(rows, "select_rows", "rows");
  if (rows.ndim() != 1 || rows.dtype() != DType::i64)
    fail("select_rows: rows must be int64 (N,), got {} {}", dtype_name(rows.dtype()), rows.shape().str());
  auto pick = [&](const Tensor& t) { return t.defined() ? index_select(t, 0, rows) : Tensor(); };  // (N, ...)
  Encoded picked;
  picked.keys = pick(encoded.keys);
  picked.projected_keys = pick(encoded.projected_keys);
  picked.context = pick(encoded.context);
  picked.mask = pick(encoded.mask);
  picked.initial_hidden = pick(encoded.initial_hidden);
  picked.context_input = pick(encoded.context_input);
  picked.context_output = pick(encoded.context_output);
  picked.shortlist = encoded.shortlist;  // not per row
  return picked;
}

}  // namespace tg::translate
