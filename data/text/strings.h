#pragma once
// Small string edits shared by the tokenizer, detokenizer and BLEU.
#include <string>
#include <string_view>

namespace tg::text {

// s/from/to/g for a literal, non-empty `from`.
void replace_all(std::string& s, std::string_view from, std::string_view to);

}  // namespace tg::text
