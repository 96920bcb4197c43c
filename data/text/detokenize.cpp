// detokenizer.perl's rules for the languages we have (no CJK, Czech or
// French special cases): which tokens attach to their left or right neighbour.
#include <algorithm>
#include <map>

#include "core/services/error.h"
#include "data/text/tokenizer.h"
#include "data/text/utf8.h"
#include "data/text/strings.h"

namespace tg::text {

namespace {

bool is_currency(char32_t c) { return c == '$' || (c >= 0xA2 && c <= 0xA5) || (c >= 0x20A0 && c <= 0x20CF); }

// Every code point of `word` satisfies `pred` (and there is at least one).
template <typename Pred>
bool all_of_word(const std::u32string& word, Pred pred) {
  return !word.empty() && std::all_of(word.begin(), word.end(), pred);
}

}  // namespace

std::string unescape_moses(std::string_view token) {
  std::string s(token);
  if (s.find('&') == std::string::npos) return s;
  replace_all(s, "&bar;", "|");
  replace_all(s, "&#124;", "|");
  replace_all(s, "&lt;", "<");
  replace_all(s, "&gt;", ">");
  replace_all(s, "&bra;", "[");
  replace_all(s, "&ket;", "]");
  replace_all(s, "&quot;", "\"");
  replace_all(s, "&apos;", "'");
  replace_all(s, "&#91;", "[");
  replace_all(s, "&#93;", "]");
  replace_all(s, "&amp;", "&");
  return s;
}

std::string detokenize(const std::vector<std::string>& tokens, std::string_view lang) {
  if (lang != "de" && lang != "en") fail("detokenize: language '{}' not supported; expected 'de' or 'en'", lang);
  std::string joined;
  for (const std::string& t : tokens) joined += " " + t;
  joined += " ";
  replace_all(joined, " @-@ ", "-");  // aggressive hyphen splitting undone
  const std::vector<std::string> pieces = split_tokens(unescape_moses(joined));
  std::vector<std::u32string> words;
  for (const std::string& p : pieces) words.push_back(decode_utf8(p));

  std::u32string text;
  bool space_before = true;  // Moses' $prependSpace: does the next word get a space in front?
  std::map<std::u32string, int> quote_count;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::u32string& w = words[i];
    const auto left_shift = [&] {  // attach to the previous word
      text += w;
      space_before = true;
    };
    const auto right_shift = [&] {  // attach to the next word
      if (space_before) text.push_back(' ');
      text += w;
      space_before = false;
    };
    if (all_of_word(w, [](char32_t c) { return is_currency(c) || c == '(' || c == '[' || c == '{' || c == 0xBF || c == 0xA1; })) {
      right_shift();
    } else if (all_of_word(w, [](char32_t c) { return std::u32string_view(U",.?!:;\\%}])").find(c) != std::u32string_view::npos; })) {
      left_shift();
    } else if (lang == "en" && i > 0 && w.size() >= 2 && w[0] == '\'' && is_letter(w[1]) && !words[i - 1].empty() &&
               is_alnum(words[i - 1].back())) {
      left_shift();  // English clitic: "it 's" -> "it's"
    } else if (all_of_word(w, [](char32_t c) { return c == '\'' || c == '"' || c == 0x201E || c == 0x201C || c == '`'; })) {
      const bool curly_double = all_of_word(w, [](char32_t c) { return c == 0x201E || c == 0x201C || c == 0x201D; });
      int& count = quote_count[curly_double ? U"\"" : w];
      if (count % 2 == 0) {
        if (lang == "en" && w == U"'" && i > 0 && !words[i - 1].empty() && words[i - 1].back() == 's') {
          left_shift();  // possessive of a word ending in s: "the Jones' house"
        } else {
          right_shift();  // opening quote
          ++count;
        }
      } else {
        left_shift();  // closing quote
        ++count;
      }
    } else {
      if (space_before) text.push_back(' ');
      text += w;
      space_before = true;
    }
  }
  // squeeze spaces, trim both ends
  const std::string out = encode_utf8(text);
  std::string result;
  for (const char c : out)
    if (!(c == ' ' && (result.empty() || result.back() == ' '))) result.push_back(c);
  if (!result.empty() && result.back() == ' ') result.pop_back();
  return result;
}

}  // namespace tg::text
