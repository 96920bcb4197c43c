#include "data/text/text_codec.h"

#include "core/services/error.h"
#include "data/text/tokenizer.h"

namespace tg::text {

TextCodec TextCodec::words() { return {}; }

TextCodec TextCodec::subwords(SubwordModel source, SubwordModel target) {
  TextCodec codec;
  codec.source_model_ = std::move(source);
  codec.target_model_ = std::move(target);
  return codec;
}

const SubwordModel& TextCodec::source_model() const {
  if (!source_model_) fail("TextCodec: a word vocabulary has no subword model");
  return *source_model_;
}

const SubwordModel& TextCodec::target_model() const {
  if (!target_model_) fail("TextCodec: a word vocabulary has no subword model");
  return *target_model_;
}

std::vector<std::string> TextCodec::source_tokens(std::string_view raw_german) const {
  if (!is_subword()) return tokenize(raw_german, "de");
  return source_model_->encode(normalize_punctuation(raw_german, "de"));
}

std::vector<std::string> TextCodec::target_tokens(std::string_view raw_english) const {
  if (!is_subword()) return tokenize(raw_english, "en");
  return target_model_->encode(normalize_punctuation(raw_english, "en"));
}

std::string TextCodec::target_text(const std::vector<std::string>& tokens) const {
  if (!is_subword()) return detokenize(tokens, "en");
  return target_model_->decode(tokens);
}

std::string TextCodec::target_tokenized(const std::vector<std::string>& tokens) const {
  if (!is_subword()) {
    std::string line;
    for (const std::string& t : tokens) line += (line.empty() ? "" : " ") + t;
    return line;
  }
  return tokenize_line(target_text(tokens), "en");
}

std::string TextCodec::display(const std::string& token) const {
  if (!is_subword()) return unescape_moses(token);
  // "▁Mann" starts a word: shown as "Mann"; a piece inside a word ("t" of "fähr|t") as "·t".
  const std::string word_start = "\xE2\x96\x81";  // U+2581, SentencePiece's mark of a word's start
  if (token.rfind(word_start, 0) == 0) return token.size() > word_start.size() ? token.substr(word_start.size()) : token;
  return "\xC2\xB7" + token;  // U+00B7 "·"
}

}  // namespace tg::text
