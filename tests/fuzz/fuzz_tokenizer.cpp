// libFuzzer target: Multi30k's tokenizer and the detokenizer (data/text/tokenizer.h)
// on arbitrary lines. The first byte picks the language (even: de, odd: en),
// the rest is the line. Nothing may crash or throw; on valid UTF-8 every
// stage gives valid UTF-8, tokenize() agrees with tokenize_line(), and the
// detokenizer's output has no leading, trailing or doubled spaces.
#include "data/text/tokenizer.h"
#include "data/text/utf8.h"
#include "fuzz_support.h"

namespace {

void check_utf8(const std::string& s, const char* what) {
  if (tg::text::find_invalid_utf8(s)) fuzz::broken(what);
}

void check_spacing(const std::string& s) {
  if (!s.empty() && (s.front() == ' ' || s.back() == ' ')) fuzz::broken("detokenize left a space at an end");
  if (s.find("  ") != std::string::npos) fuzz::broken("detokenize left a double space");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view lang = data[0] % 2 == 0 ? "de" : "en";
  const std::string_view line = fuzz::bytes(data + 1, size - 1);
  const bool utf8 = !tg::text::find_invalid_utf8(line);

  const std::string normalized = tg::text::normalize_punctuation(line, lang);
  const std::string moses = tg::text::moses_tokenize(line, lang);
  const std::string tokenized = tg::text::tokenize_line(line, lang);
  const std::vector<std::string> tokens = tg::text::tokenize(line, lang);
  if (tokens != tg::text::split_tokens(tokenized)) fuzz::broken("tokenize() and tokenize_line() disagree");
  const std::string detokenized = tg::text::detokenize(tokens, lang);
  check_spacing(detokenized);
  for (const std::string& token : tokens) (void)tg::text::unescape_moses(token);
  // The detokenizer on the raw line's own space-separated pieces as tokens.
  const std::string raw_detokenized = tg::text::detokenize(fuzz::split(line, ' '), lang);
  check_spacing(raw_detokenized);
  if (utf8) {
    check_utf8(tg::text::lowercase(line), "lowercase broke UTF-8");
    check_utf8(normalized, "normalize_punctuation broke UTF-8");
    check_utf8(moses, "moses_tokenize broke UTF-8");
    check_utf8(tokenized, "tokenize_line broke UTF-8");
    check_utf8(detokenized, "detokenize broke UTF-8");
    check_utf8(raw_detokenized, "detokenize broke UTF-8");
  }
  return 0;
}
