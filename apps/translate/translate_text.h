#pragma once
// Translating raw German text with a loaded checkpoint (the `translate
// translate` command): tokenize as Multi30k's preprocessing does, check the
// input, decode, detokenize the English.
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "apps/translate/search.h"
#include "apps/translate/translation_checkpoint.h"

namespace tg::translate {

// The default limit on a sentence's length in tokens (after tokenization).
inline constexpr int64_t kMaxSentenceTokens = 100;

// The lines of a stream (standard input) without "\n" or "\r\n", each checked
// to be UTF-8 as text::read_lines checks files: the error names `name`, the
// 1-based line and the byte ("standard input:2: invalid UTF-8 at byte 0 of
// the line (byte 0xFF); expected UTF-8 text").
std::vector<std::string> read_input_lines(std::istream& in, const std::string& name);

// What prepare_sources does with an empty (or white-space only) input:
// refuse it (sentences given as arguments), or keep it as an empty token list
// to be answered with an empty line (a stream, whose line i of output must
// stay the translation of line i of input).
enum class EmptyInput { refuse, keep };

// Tokenizes each input (the codec's source_tokens: words or subword pieces). Throws, naming the input as
// "<what> N" (1-based), when one is not UTF-8, is empty or only white space
// (unless `empty` is keep), or has more than max_tokens tokens: over-long
// sentences are refused, not truncated.
std::vector<std::vector<std::string>> prepare_sources(const text::TextCodec& codec, const std::vector<std::string>& inputs,
                                                      const std::string& what, int64_t max_tokens,
                                                      EmptyInput empty = EmptyInput::refuse);

// One of the beam's other finished hypotheses (translate_sentences' n_best).
struct Alternative {
  std::vector<std::string> target_tokens;
  std::string text;
  double score = 0;  // normalized_score: log p / lp(length)
};

struct Translation {
  std::vector<std::string> source_tokens;  // German tokens: lc.norm.tok words or subword pieces
  std::vector<std::string> target_tokens;  // English tokens, likewise
  std::string text;                        // detokenized English (cased with subwords)
  Tensor attention;  // (steps, S): steps = target tokens (+1 for <eos> when finished); undefined for Cho
  bool finished = true;  // ended with <eos> rather than at the length limit
  double score = 0;      // normalized_score of the chosen hypothesis: log p / lp(length)
  std::vector<Alternative> alternatives;  // the next best, best first: up to n_best - 1
};

// Beam search (beam <= 1: beam 1, which is greedy search) for tokenized
// sentences, batch_size sentences of like length per batched search; the
// translations come back in the order of `sources`, each searched with its
// own length limit (output_limit) exactly as if alone. An empty token list
// gets an empty translation (text ""). with_attention fills `attention`
// (models with attention only); n_best (1..beam) > 1 fills `alternatives`
// with the beam's next best finished hypotheses (beam_search_n_best).
std::vector<Translation> translate_sentences(Translator& translator,
                                             const std::vector<std::vector<std::string>>& sources, int64_t beam,
                                             LengthPenalty length_penalty, bool with_attention, int64_t batch_size = 64,
                                             int64_t n_best = 1);

// One tokenized sentence, its attention included: translate_sentences of one.
Translation translate_tokens(Translator& translator, const std::vector<std::string>& source_tokens, int64_t beam,
                             LengthPenalty length_penalty);

// The attention figure of a translation (source words across, target words
// down), labelled as the model read them: a source word outside the
// translator's vocabulary shows as "<unk> (word)".
std::string translation_attention_svg(const Translation& translation, const Translator& translator);

// `path` for one sentence; with several, the 1-based index before the
// extension: "align.svg" -> "align-2.svg".
std::string indexed_path(const std::string& path, int64_t index, int64_t count);

}  // namespace tg::translate
