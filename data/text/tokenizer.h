#pragma once
// Multi30k's preprocessing, rewritten from what the data set's
// scripts/task1-tokenize.sh runs (Moses scripts as of commit 3a0631a, 2017):
//   lowercase.perl | normalize-punctuation.perl -l L | tokenizer.perl -l L
// tokenize_line() of a raw line gives the line of the matching
// `*.lc.norm.tok.L` file, including Moses' escapes (& -> &amp;, ' -> &apos;,
// " -> &quot;, | < > [ ] likewise). Languages: "de" and "en".
#include <string>
#include <string_view>
#include <vector>

namespace tg::text {

// normalize-punctuation.perl -l lang: Unicode quotes and dashes to ASCII,
// spaces around brackets and before : ; ? ! %, "quote," order per language.
std::string normalize_punctuation(std::string_view line, std::string_view lang);

// tokenizer.perl -l lang (no -a, no -no-escape): splits punctuation from words
// except inside numbers (5,300), abbreviations and German ordinals, English
// clitics ('s, n't) kept on the right-hand word; returns space-joined tokens.
std::string moses_tokenize(std::string_view line, std::string_view lang);

// lowercase -> normalize_punctuation -> moses_tokenize: one lc.norm.tok line.
std::string tokenize_line(std::string_view raw, std::string_view lang);
// tokenize_line split into tokens.
std::vector<std::string> tokenize(std::string_view raw, std::string_view lang);

// Splits on ASCII white space (what multi-bleu.perl and the vocabulary see).
std::vector<std::string> split_tokens(std::string_view line);

// Moses escapes undone: &amp; &#124; &lt; &gt; &apos; &quot; &#91; &#93;.
std::string unescape_moses(std::string_view token);

// detokenizer.perl -l lang on tokens: entities unescaped, then punctuation
// attached to its word (", . ? ! : ; % ) ]" to the left, "( [ $" to the
// right), paired quotes closed around their words, English clitics ('s, 're,
// n't) attached to the left. Returns the sentence as one string.
std::string detokenize(const std::vector<std::string>& tokens, std::string_view lang);

}  // namespace tg::text
