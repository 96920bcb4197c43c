// tokenizer.perl's default path (no -a, -x, -penn, -no-escape), rule by rule,
// on code points with Perl's Unicode classes (data/text/utf8.h). Each s///g is a
// left-to-right scan whose matches do not overlap, as Perl's are.
#include "data/text/tokenizer.h"

#include <algorithm>
#include <functional>

#include "core/services/error.h"
#include "data/text/nonbreaking_prefixes.h"
#include "data/text/utf8.h"

namespace tg::text {

namespace {

using Pred = std::function<bool(char32_t)>;

// Stands for one dot of a "..." run while the other rules run (Moses writes
// DOTMULTI); a letter, like DOTMULTI's, so the rules treat it the same way.
constexpr char32_t kMultiDot = 0x10FFFE;

void check_language(std::string_view lang, const char* op) {
  if (lang != "de" && lang != "en") fail("{}: language '{}' not supported; expected 'de' or 'en'", op, lang);
}

// s/ +/ /g; s/^ //; s/ $//
void squeeze_and_trim(std::u32string& s) {
  std::u32string out;
  for (const char32_t c : s)
    if (!(c == ' ' && (out.empty() || out.back() == ' '))) out.push_back(c);
  if (!out.empty() && out.back() == ' ') out.pop_back();
  s = std::move(out);
}

// s/(A)X/REPLACE/g for a two-character pattern; `emit` writes the replacement.
void substitute2(std::u32string& s, const Pred& a, const Pred& b,
                 const std::function<void(std::u32string&, char32_t, char32_t)>& emit) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && a(s[i]) && b(s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  s = std::move(out);
}

// s/(A)'(B)/$1<mid>$2/g: an apostrophe between characters of classes A and B.
void split_apostrophe(std::u32string& s, const Pred& a, const Pred& b, std::u32string_view mid) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 2 < s.size() && s[i + 1] == '\'' && a(s[i]) && b(s[i + 2])) {
      out.push_back(s[i]);
      out.append(mid);
      out.push_back(s[i + 2]);
      i += 3;
    } else {
      out.push_back(s[i++]);
    }
  }
  s = std::move(out);
}

// s/([^\p{IsAlnum}\s\.\'\`\,\-])/ $1 /g: symbols become tokens of their own.
void separate_symbols(std::u32string& s) {
  std::u32string out;
  for (const char32_t c : s) {
    const bool kept = is_alnum(c) || is_space(c) || c == '.' || c == '\'' || c == '`' || c == ',' || c == '-';
    if (kept) {
      out.push_back(c);
    } else {
      out.push_back(' ');
      out.push_back(c);
      out.push_back(' ');
    }
  }
  s = std::move(out);
}

// A run of two or more dots becomes one token " ... ", its dots hidden from
// the sentence-final-period rule below.
void protect_multi_dots(std::u32string& s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] == '.') ++j;
    if (j - i >= 2) {
      out.push_back(' ');
      out.append(j - i, kMultiDot);
      if (j < s.size()) out.push_back(' ');
      i = j;
    } else {
      out.push_back(s[i++]);
    }
  }
  s = std::move(out);
}

void split_commas(std::u32string& s) {
  const auto comma = [](char32_t c) { return c == ','; };
  const auto not_number = [](char32_t c) { return !is_number(c); };
  // s/([^\p{IsN}])[,]/$1 , /g, then s/[,]([^\p{IsN}])/ , $1/g
  substitute2(s, not_number, comma, [](std::u32string& out, char32_t a, char32_t) {
    out.push_back(a);
    out.append(U" , ");
  });
  substitute2(s, comma, not_number, [](std::u32string& out, char32_t, char32_t b) {
    out.append(U" , ");
    out.push_back(b);
  });
}

void split_apostrophes(std::u32string& s, std::string_view lang) {
  const auto alpha = [](char32_t c) { return is_letter(c); };
  const auto not_alpha = [](char32_t c) { return !is_letter(c); };
  if (lang == "en") {  // the clitic goes right: "it's" -> "it 's", "don't" -> "don 't"
    split_apostrophe(s, not_alpha, not_alpha, U" ' ");
    split_apostrophe(s, [](char32_t c) { return !is_letter(c) && !is_number(c); }, alpha, U" ' ");
    split_apostrophe(s, alpha, not_alpha, U" ' ");
    split_apostrophe(s, alpha, alpha, U" '");
    split_apostrophe(s, [](char32_t c) { return is_number(c); }, [](char32_t c) { return c == 's'; }, U" '");
  } else {
    std::u32string out;
    for (const char32_t c : s) {
      if (c == '\'') out.append(U" ' ");
      else out.push_back(c);
    }
    s = std::move(out);
  }
}

// A word ending in "." keeps its period when it is an abbreviation (contains
// another period and a letter, or is a nonbreaking prefix), or when the next
// word starts in lower case, or (numeric-only prefixes) a digit; otherwise the
// period becomes its own token.
void split_final_periods(std::u32string& s, std::string_view lang) {
  const auto& prefixes = nonbreaking_prefixes(lang);
  std::vector<std::u32string> words;  // split(/\s/): empty fields kept, trailing ones dropped
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ' ') {
      words.emplace_back(s, start, i - start);
      start = i + 1;
    }
  }
  while (!words.empty() && words.back().empty()) words.pop_back();

  std::u32string out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::u32string& word = words[i];
    out.append(word);
    if (word.size() >= 2 && word.back() == '.') {
      const std::u32string pre = word.substr(0, word.size() - 1);
      const auto found = prefixes.find(pre);
      const bool has_next = i + 1 < words.size();
      const char32_t next_first = has_next && !words[i + 1].empty() ? words[i + 1][0] : 0;
      bool keep = (pre.find(U'.') != std::u32string::npos &&
                   std::any_of(pre.begin(), pre.end(), [](char32_t c) { return is_letter(c); })) ||
                  (found != prefixes.end() && found->second == PrefixKind::always) ||
                  (next_first != 0 && is_lower(next_first));
      if (!keep && found != prefixes.end() && found->second == PrefixKind::numeric_only)
        keep = next_first >= '0' && next_first <= '9';
      if (!keep) out.insert(out.end() - 1, U' ');
    }
    out.push_back(' ');
  }
  s = std::move(out);
}

std::u32string escape(const std::u32string& s) {
  std::u32string out;
  for (const char32_t c : s) {
    switch (c) {
      case '&': out.append(U"&amp;"); break;
      case '|': out.append(U"&#124;"); break;
      case '<': out.append(U"&lt;"); break;
      case '>': out.append(U"&gt;"); break;
      case '\'': out.append(U"&apos;"); break;
      case '"': out.append(U"&quot;"); break;
      case '[': out.append(U"&#91;"); break;
      case ']': out.append(U"&#93;"); break;
      case kMultiDot: out.push_back('.'); break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string moses_tokenize(std::string_view line, std::string_view lang) {
  check_language(lang, "moses_tokenize");
  std::u32string text = decode_utf8(line);
  if (std::all_of(text.begin(), text.end(), [](char32_t c) { return is_space(c); }))
    return std::string(line);  // blank lines pass through untouched

  // white space to single spaces, control characters dropped
  std::u32string s;
  for (const char32_t c : U" " + text + U" ") {
    if (is_space(c)) {
      if (s.empty() || s.back() != ' ') s.push_back(' ');
    } else if (c >= 0x20) {
      s.push_back(c);
    }
  }
  squeeze_and_trim(s);

  separate_symbols(s);
  protect_multi_dots(s);
  split_commas(s);
  split_apostrophes(s, lang);
  split_final_periods(s, lang);
  squeeze_and_trim(s);

  // s/\.\' ?$/ . ' /: a quote after the final period (the loop above missed it)
  if (s.size() >= 2 && s[s.size() - 2] == '.' && s.back() == '\'') {
    s.resize(s.size() - 2);
    s.append(U" . ' ");
  }
  return encode_utf8(escape(s));
}

std::string tokenize_line(std::string_view raw, std::string_view lang) {
  check_language(lang, "tokenize_line");
  return moses_tokenize(normalize_punctuation(lowercase(raw), lang), lang);
}

std::vector<std::string> split_tokens(std::string_view line) {
  std::vector<std::string> tokens;
  size_t i = 0;
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (i < line.size()) {
    while (i < line.size() && space(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !space(line[j])) ++j;
    if (j > i) tokens.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return tokens;
}

std::vector<std::string> tokenize(std::string_view raw, std::string_view lang) {
  return split_tokens(tokenize_line(raw, lang));
}

}  // namespace tg::text
