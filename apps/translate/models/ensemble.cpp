#include "apps/translate/models/ensemble.h"

#include "core/services/error.h"
#include "ops/add.h"
#include "ops/concat.h"
#include "ops/mul.h"
#include "ops/slice.h"
#include "ops/softmax.h"

namespace tg::translate {

namespace {

// Concatenation of the members' tensors along `axis` (all defined or all undefined); records their widths.
Tensor pack(const std::vector<Tensor>& parts, int axis, std::vector<int64_t>& widths) {
  widths.clear();
  if (!parts.front().defined()) return Tensor();
  for (const Tensor& t : parts) widths.push_back(t.size(axis));
  return concat(parts, axis);
}

// Part i of a tensor packed by `pack`.
Tensor unpack(const Tensor& packed, int axis, const std::vector<int64_t>& widths, size_t i) {
  if (!packed.defined()) return Tensor();
  int64_t begin = 0;
  for (size_t k = 0; k < i; ++k) begin += widths[k];
  return slice(packed, axis, begin, begin + widths[i]);
}

// (1/N) Σ_i parts[i]
Tensor mean_of(const std::vector<Tensor>& parts) {
  Tensor sum = parts.front();
  for (size_t i = 1; i < parts.size(); ++i) sum = sum + parts[i];
  return sum * (1.0 / static_cast<double>(parts.size()));
}

}  // namespace

Ensemble::Ensemble(std::vector<std::unique_ptr<Seq2Seq>> members) : members_(std::move(members)) {
  if (members_.empty()) fail("Ensemble: no models");
  const ModelConfig& first = members_.front()->config();
  for (size_t i = 0; i < members_.size(); ++i) {
    const ModelConfig& c = members_[i]->config();
    if (c.kind != first.kind || c.cell != first.cell)
      fail("Ensemble: model {} is {} ({}), model 1 is {} ({}): an ensemble's members must be of one kind", i + 1,
           c.kind, c.cell, first.kind, first.cell);
    if (c.tgt_vocab != first.tgt_vocab || c.src_vocab != first.src_vocab)
      fail("Ensemble: model {} has vocabularies of {} / {} tokens, model 1 of {} / {}", i + 1, c.src_vocab,
           c.tgt_vocab, first.src_vocab, first.tgt_vocab);
    register_module("member" + std::to_string(i), *members_[i]);
  }
}

Encoded Ensemble::encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const {
  std::vector<Tensor> keys, projected, contexts, states;
  for (const auto& member : members_) {
    const Encoded e = member->encode(src, src_lengths, src_mask);
    keys.push_back(e.keys);
    projected.push_back(e.projected_keys);
    contexts.push_back(e.context);
    states.push_back(e.initial_hidden);
  }
  Encoded packed;
  packed.keys = pack(keys, 2, key_widths_);                       // (B, S, Σ K_i)
  packed.projected_keys = pack(projected, 2, projected_widths_);  // (B, S, Σ A_i)
  packed.context = pack(contexts, 1, context_widths_);            // (B, Σ C_i)
  packed.mask = src_mask;                                         // (B, S), the same for all
  packed.initial_hidden = pack(states, 1, state_widths_);         // (B, Σ H_i)
  return packed;
}

Encoded Ensemble::member_encoding(const Encoded& packed, size_t i) const {
  Encoded e;
  e.keys = unpack(packed.keys, 2, key_widths_, i);
  e.projected_keys = unpack(packed.projected_keys, 2, projected_widths_, i);
  e.context = unpack(packed.context, 1, context_widths_, i);
  e.mask = packed.mask;
  e.initial_hidden = unpack(packed.initial_hidden, 1, state_widths_, i);
  if (packed.shortlist) e.shortlist = packed.shortlist->members[i];
  return e;
}

Tensor Ensemble::member_state(const Tensor& packed, size_t i) const { return unpack(packed, 1, state_widths_, i); }

Tensor Ensemble::forward(const text::Batch& batch) const {
  std::vector<Tensor> log_probs;
  for (const auto& member : members_) log_probs.push_back(log_softmax(member->forward(batch), -1));  // (T, B, V)
  return mean_of(log_probs);
}

Step Ensemble::step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const {
  if (state_widths_.size() != members_.size()) fail("Ensemble: step before encode");
  std::vector<Tensor> log_probs, states, attentions;
  for (size_t i = 0; i < members_.size(); ++i) {
    const Step s = members_[i]->step(member_encoding(encoded, i), prev_tokens, member_state(hidden, i));
    log_probs.push_back(s.log_probs);  // (B, V)
    states.push_back(s.hidden);
    attentions.push_back(s.attention);
  }
  Step result;
  result.log_probs = mean_of(log_probs);  // (B, V)
  result.hidden = pack(states, 1, state_widths_);  // (B, Σ H_i); a Transformer's state grows every step
  if (attentions.front().defined()) result.attention = mean_of(attentions);  // (B, S)
  return result;
}

void Ensemble::quantize_for_decoding() {
  for (const std::unique_ptr<Seq2Seq>& member : members_) member->quantize_for_decoding();
}

Encoded Ensemble::restrict_output(const Encoded& encoded, const Tensor& ids) const {
  auto rows = std::make_shared<RestrictedOutput>();
  rows->ids = ids;
  for (size_t i = 0; i < members_.size(); ++i)
    rows->members.push_back(members_[i]->restrict_output(member_encoding(encoded, i), ids).shortlist);
  Encoded restricted = encoded;
  restricted.shortlist = rows;
  return restricted;
}

bool Ensemble::quantized_for_decoding() const { return members_.front()->quantized_for_decoding(); }

}  // namespace tg::translate
