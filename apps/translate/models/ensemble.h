#pragma once
// An ensemble of translation models decoded as one: at every step each member
// scores the next token from its own encoding and state, and the ensemble's
// score is the mean of their log-probabilities,
//
//   log p(y_t | ·) = (1/N) Σ_i log p_i(y_t | ·)        (B, V)
//
// (as Marian and fairseq average them), so greedy and beam search run on it
// unchanged. Members must be of one kind (their encodings have the same
// parts) and share the target vocabulary; sizes may differ. The members'
// encodings and states travel side by side, concatenated along the feature
// axis, so that search's row selection (select_rows) keeps each aligned.
#include <memory>
#include <vector>

#include "apps/translate/models/seq2seq.h"

namespace tg::translate {

class Ensemble : public Seq2Seq {
 public:
  explicit Ensemble(std::vector<std::unique_ptr<Seq2Seq>> members);

  const ModelConfig& config() const override { return members_.front()->config(); }
  Encoded encode(const Tensor& src, const Tensor& src_lengths, const Tensor& src_mask) const override;
  // The members' mean log-probabilities (T, B, V), standing for logits.
  Tensor forward(const text::Batch& batch) const override;
  Step step(const Encoded& encoded, const Tensor& prev_tokens, const Tensor& hidden) const override;
  std::string type_name() const override { return "Ensemble"; }
  void quantize_for_decoding() override;  // every member
  bool quantized_for_decoding() const override;
  Encoded restrict_output(const Encoded& encoded, const Tensor& ids) const override;  // every member's rows

  size_t size() const { return members_.size(); }

 private:
  // Member i's part of a packed encoding or state.
  Encoded member_encoding(const Encoded& packed, size_t i) const;
  Tensor member_state(const Tensor& packed, size_t i) const;

  std::vector<std::unique_ptr<Seq2Seq>> members_;
  // Feature widths of each member's parts, learnt at the first encode (they depend on the configs only).
  mutable std::vector<int64_t> key_widths_, projected_widths_, context_widths_, state_widths_;
};

}  // namespace tg::translate
