#pragma once
// Multi30k files, a corpus's loss, and decoding a corpus: what `train`
// (validation) and `eval` share.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "data/text/batching.h"
#include "data/text/bleu.h"
#include "data/text/vocab.h"
#include "apps/translate/search.h"
#include "apps/translate/models/seq2seq.h"
#include "data/text/text_codec.h"

namespace tg::translate {

// dir/name.gz, or dir/name when only that exists; throws naming both.
std::string data_file(const std::string& dir, const std::string& name);

// One split's text: the lc.norm.tok German and English lines and, when asked
// for, the raw (cased, untokenized) German and English lines, which subword
// models read and the cased BLEU scores against. limit > 0 keeps the first
// `limit` pairs.
struct SplitText {
  std::vector<std::string> src_tok, tgt_tok, src_raw, tgt_raw;
};
SplitText read_split(const std::string& dir, const std::string& split, int64_t limit, bool raw);

// Any parallel files (`eval --src FILE --ref FILE`): raw German sources and raw
// English references, plain or .gz, read with text::read_lines (errors name
// the file, line and byte of invalid UTF-8; unequal line counts are refused),
// then tokenized as Multi30k's preprocessing does (text::tokenize_line, as
// `translate` does), so the result reads as a split's: src_tok, tgt_tok, and
// src_raw, tgt_raw as given. A source line with no tokens is refused,
// naming the file and line. limit > 0 keeps the first `limit` pairs.
SplitText read_parallel_text(const std::string& src_path, const std::string& ref_path, int64_t limit);

// Refuses a source line of more than max_tokens tokens, naming `name` and the
// line: decoding time grows with the square of a sentence's length (attention
// over the source at each of up to output_limit steps), so one runaway line
// (a file without line breaks) would run for hours.
void check_source_lengths(const std::vector<std::vector<std::string>>& sources, const std::string& name,
                          int64_t max_tokens);

// The token lists a model with `codec` reads for a split's sources (words:
// src_tok; subwords: the pieces of src_raw) and learns for its targets
// (words: tgt_tok; subwords: the pieces of tgt_raw).
std::vector<std::vector<std::string>> source_token_lists(const text::TextCodec& codec, const SplitText& text);
std::vector<std::vector<std::string>> target_token_lists(const text::TextCodec& codec, const SplitText& text);

// Decoding a SplitText and scoring it: the hypotheses tokenized (lc.norm.tok
// style) and detokenized, multi-bleu -lc of the first against text.tgt_tok,
// and the sacreBLEU-style 13a figure of the second against text.tgt_raw.
struct CorpusEvaluation {
  std::vector<std::string> tokenized, detokenized;
  text::BleuScore multi, sacre;
  double seconds = 0;  // decoding time
};
CorpusEvaluation evaluate_text(Seq2Seq& model, const text::TextCodec& codec, const text::Vocab& src_vocab,
                               const text::Vocab& tgt_vocab, const SplitText& text, int64_t beam,
                               LengthPenalty length_penalty);

// The mean loss (Seq2Seq::loss) per target token over `examples` in
// evaluation mode; batches go to the model's device.
double corpus_loss(Seq2Seq& model, const std::vector<text::Example>& examples, int64_t batch_size);

// The longest output decoding allows for a source of `src_len` tokens.
int64_t output_limit(int64_t src_len);

// Translates every source (token ids) on the model's device, greedy (beam <= 1,
// batched) or with beam search; returns target tokens (lowercased,
// Moses-escaped, as in lc.norm.tok) in the order of `sources`.
std::vector<std::vector<std::string>> translate_ids(Seq2Seq& model, const std::vector<std::vector<int64_t>>& sources,
                                                    const text::Vocab& tgt_vocab, int64_t beam,
                                                    LengthPenalty length_penalty, int64_t batch_size);

}  // namespace tg::translate
