#include "apps/translate/models/seq2seq.h"

#include "apps/translate/models/bahdanau_model.h"
#include "apps/translate/models/cho_model.h"
#include "apps/translate/models/transformer_model.h"
#include "core/services/error.h"
#include "core/tensor/creation.h"
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
  const Tensor targets = reshape(batch.tgt_out, Shape{-1});  // (T·B)
  if (options.reduction == Reduction::none) {
    const Tensor logits = forward(batch);  // (T, B, V)
    return cross_entropy(reshape(logits, Shape{-1, logits.size(2)}), targets, cross_entropy_options);
  }
  // The output layer and the softmax on the target tokens alone: padding's logits would only be ignored.
  const Tensor rows = target_rows(batch);  // (N)
  return cross_entropy(forward_at(batch, rows), index_select(targets, 0, rows), cross_entropy_options);
}

Tensor Seq2Seq::forward_at(const text::Batch& batch, const Tensor& rows) const {
  const Tensor logits = forward(batch);  // (T, B, V)
  return index_select(reshape(logits, Shape{-1, logits.size(2)}), 0, rows);
}

Tensor target_rows(const text::Batch& batch) {
  check_defined(batch.tgt_out, "target_rows", "tgt_out");
  const Tensor& tgt_out = batch.tgt_out;
  if (tgt_out.ndim() != 2 || tgt_out.dtype() != DType::i64)
    fail("target_rows: tgt_out must be int64 (T, B), got {} {}", dtype_name(tgt_out.dtype()), tgt_out.shape().str());
  const int64_t T = tgt_out.size(0), B = tgt_out.size(1);
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(T * B));
  if (tgt_out.device().is_host()) {
    const std::vector<int64_t> y = tgt_out.to_vector<int64_t>();
    for (int64_t r = 0; r < T * B; ++r)
      if (y[static_cast<size_t>(r)] != text::Vocab::pad_id) rows.push_back(r);
  } else {
    const Tensor& lengths = batch.tgt_lengths;
    if (!lengths.defined() || !lengths.device().is_host() || !(lengths.shape() == Shape{B}) ||
        lengths.dtype() != DType::i64)
      fail("target_rows: with tgt_out on {}, tgt_lengths must be int64 ({}) on the host, got {}", tgt_out.device().str(),
           B, lengths.defined() ? fmt::format("{} {} on {}", dtype_name(lengths.dtype()), lengths.shape().str(),
                                              lengths.device().str())
                                : std::string("none"));
    const std::vector<int64_t> n = lengths.to_vector<int64_t>();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b)
        if (t < n[static_cast<size_t>(b)]) rows.push_back(t * B + b);
  }
  return index_tensor(rows, {static_cast<int64_t>(rows.size())}).to(tgt_out.device());
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
