#pragma once
// How a German→English pair's text becomes tokens, and the output tokens text
// again: the translation models' text codec, beside the vocabularies it feeds.
//
//   word     the data set's preprocessing (lowercase, normalise punctuation,
//            Moses tokenizer), one vocabulary entry per word, rare words <unk>;
//            the output is lowercase, detokenized by the Moses rules.
//   subword  the data set's punctuation normalisation on the raw, cased text,
//            then SentencePiece pieces (data/text/subword.h); the output is the
//            pieces decoded: cased and detokenized, no <unk> for rare words.
//
// Either way the BLEU figures stay comparable with the word models' and with
// papers: the hypothesis is scored cased and detokenized (sacreBLEU-style 13a)
// against the raw references, and lowercased and tokenized like lc.norm.tok
// (multi-bleu -lc) against the data set's lc.norm.tok references.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/text/subword.h"

namespace tg::text {

class TextCodec {
 public:
  static TextCodec words();
  static TextCodec subwords(SubwordModel source, SubwordModel target);

  bool is_subword() const { return source_model_.has_value(); }
  const char* kind() const { return is_subword() ? "subword" : "word"; }
  const SubwordModel& source_model() const;
  const SubwordModel& target_model() const;

  std::vector<std::string> source_tokens(std::string_view raw_german) const;
  std::vector<std::string> target_tokens(std::string_view raw_english) const;
  // The sentence the model wrote: cased for subwords, lowercase for words.
  std::string target_text(const std::vector<std::string>& tokens) const;
  // The same sentence as an lc.norm.tok line, for multi-bleu -lc.
  std::string target_tokenized(const std::vector<std::string>& tokens) const;
  // A token as a reader sees it in an attention plot ("▁Mann" -> "Mann", "&amp;" -> "&").
  std::string display(const std::string& token) const;

 private:
  std::optional<SubwordModel> source_model_, target_model_;
};

}  // namespace tg::text
