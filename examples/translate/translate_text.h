#pragma once
// Translating raw German text with a loaded checkpoint (the `translate
// translate` command): tokenize as Multi30k's preprocessing does, check the
// input, decode, detokenize the English.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "translation_checkpoint.h"

namespace tg::translate {

// The default limit on a sentence's length in tokens (after tokenization).
inline constexpr int64_t kMaxSentenceTokens = 100;

// Tokenizes each input (data::tokenize, lang de). Throws, naming the input as
// "<what> N" (1-based), when one is empty or only white space, or has more
// than max_tokens tokens: over-long sentences are refused, not truncated.
std::vector<std::vector<std::string>> prepare_sources(const std::vector<std::string>& inputs,
                                                      const std::string& what, int64_t max_tokens);

struct Translation {
  std::vector<std::string> source_tokens;  // lc.norm.tok German tokens
  std::vector<std::string> target_tokens;  // lc.norm.tok English tokens
  std::string text;                        // detokenized English
  Tensor attention;  // (steps, S): steps = target tokens (+1 for <eos> when finished); undefined for Cho
  bool finished = true;  // ended with <eos> rather than at the length limit
};

// Greedy (beam <= 1) or beam search for one tokenized sentence.
Translation translate_tokens(Translator& translator, const std::vector<std::string>& source_tokens, int64_t beam,
                             double length_penalty);

// The attention figure of a translation (source words across, target words down).
std::string translation_attention_svg(const Translation& translation);

// `path` for one sentence; with several, the 1-based index before the
// extension: "align.svg" -> "align-2.svg".
std::string indexed_path(const std::string& path, int64_t index, int64_t count);

}  // namespace tg::translate
