// normalize-punctuation.perl works on bytes (the script sets no UTF-8 layer),
// so the rules here work on the UTF-8 bytes too: multi-byte characters such
// as „ or « are literal byte strings, \d and [a-z] are ASCII.
#include <functional>

#include "core/services/error.h"
#include "data/text/tokenizer.h"
#include "data/text/strings.h"

namespace tg::text {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

void squeeze_spaces(std::string& s) {  // s/ +/ /g
  std::string out;
  for (const char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out.push_back(c);
  s = std::move(out);
}

// s/(A)MID(B)/...$1 INSERT $2.../g with single-byte A and B: scans left to
// right, a match consumes A, MID and B (Perl's non-overlapping /g).
void substitute(std::string& s, const std::function<bool(char)>& a, std::string_view mid,
                const std::function<bool(char)>& b, std::string_view replacement_mid) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const size_t b_at = i + 1 + mid.size();
    if (b_at < s.size() && a(s[i]) && s.compare(i + 1, mid.size(), mid) == 0 && b(s[b_at])) {
      out.push_back(s[i]);
      out.append(replacement_mid);
      out.push_back(s[b_at]);
      i = b_at + 1;
    } else {
      out.push_back(s[i++]);
    }
  }
  s = std::move(out);
}

// German style: s/(\.+)\"(\s*[^<])/\"$1$2/g, moving dots after a closing quote.
void move_dots_after_quote(std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '.') {
      out.push_back(s[i++]);
      continue;
    }
    size_t j = i;
    while (j < s.size() && s[j] == '.') ++j;  // the dot run s[i, j)
    size_t end = 0;                           // end of the match, 0 when none
    if (j < s.size() && s[j] == '"') {
      size_t w = j + 1;
      while (w < s.size() && is_ascii_space(s[w])) ++w;
      if (w < s.size() && s[w] != '<') end = w + 1;
      else if (w > j + 1) end = w;  // \s* gives back its last character to [^<]
    }
    if (end == 0) {
      out.append(s, i, j - i);
      i = j;
    } else {
      out.push_back('"');
      out.append(s, i, j - i);
      out.append(s, j + 1, end - j - 1);
      i = end;
    }
  }
  s = std::move(out);
}

// English style: s/\"([,\.]+)/$1\"/g, moving commas and dots before a closing quote.
void move_punctuation_before_quote(std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i + 1;
    while (s[i] == '"' && j < s.size() && (s[j] == ',' || s[j] == '.')) ++j;
    if (s[i] == '"' && j > i + 1) {
      out.append(s, i + 1, j - i - 1);
      out.push_back('"');
      i = j;
    } else {
      out.push_back(s[i++]);
    }
  }
  s = std::move(out);
}

}  // namespace

std::string normalize_punctuation(std::string_view line, std::string_view lang) {
  if (lang != "de" && lang != "en") fail("normalize_punctuation: language '{}' not supported; expected 'de' or 'en'", lang);
  const auto digit = [](char c) { return is_digit(c); };
  const auto letter = [](char c) { return is_ascii_letter(c); };
  const std::string nbsp = "\xC2\xA0";

  std::string s(line);
  s.push_back('\n');  // the Perl script sees each line with its newline; one rule below depends on it
  replace_all(s, "\r", "");
  // remove extra spaces around brackets and before : ;
  replace_all(s, "(", " (");
  replace_all(s, ")", ") ");
  squeeze_spaces(s);
  for (const char* p : {") .", ") !", ") :", ") ?", ") ;", ") ,"}) replace_all(s, p, std::string(")") + p[2]);
  replace_all(s, "( ", "(");
  replace_all(s, " )", ")");
  substitute(s, digit, " ", [](char c) { return c == '%'; }, "");
  replace_all(s, " :", ":");
  replace_all(s, " ;", ";");
  // unicode punctuation to ASCII
  replace_all(s, "`", "'");
  replace_all(s, "''", " \" ");
  replace_all(s, "\u201E", "\"");  // „
  replace_all(s, "\u201C", "\"");  // “
  replace_all(s, "\u201D", "\"");  // ”
  replace_all(s, "\u2013", "-");   // –
  replace_all(s, "\u2014", " - ");  // —
  squeeze_spaces(s);
  replace_all(s, "\u00B4", "'");  // ´
  substitute(s, letter, "\u2018", letter, "'");  // letter‘letter: an apostrophe
  substitute(s, letter, "\u2019", letter, "'");  // letter’letter
  replace_all(s, "\u2018", "\"");
  replace_all(s, "\u201A", "\"");  // ‚
  replace_all(s, "\u2019", "\"");
  replace_all(s, "''", "\"");
  replace_all(s, "\u00B4\u00B4", "\"");
  replace_all(s, "\u2026", "...");  // …
  // French quotes
  replace_all(s, " \u00AB ", " \"");
  replace_all(s, "\u00AB ", "\"");
  replace_all(s, "\u00AB", "\"");
  replace_all(s, " \u00BB ", "\" ");
  replace_all(s, " \u00BB", "\"");
  replace_all(s, "\u00BB", "\"");
  // pseudo-spaces (no-break spaces before punctuation and units)
  replace_all(s, nbsp + "%", "%");
  replace_all(s, "n\u00BA" + nbsp, "n\u00BA ");
  replace_all(s, nbsp + ":", ":");
  replace_all(s, nbsp + "\u00BAC", " \u00BAC");
  replace_all(s, nbsp + "cm", " cm");
  replace_all(s, nbsp + "?", "?");
  replace_all(s, nbsp + "!", "!");
  replace_all(s, nbsp + ";", ";");
  replace_all(s, "," + nbsp, ", ");
  squeeze_spaces(s);
  if (lang == "en") {
    move_punctuation_before_quote(s);  // English "quotation," style
  } else {
    replace_all(s, ",\"", "\",");  // German "quotation", style
    move_dots_after_quote(s);
  }
  // a space between digits is a thousands separator
  substitute(s, digit, " ", digit, lang == "de" ? "," : ".");
  s.pop_back();  // the newline added above (no rule removes or moves it)
  return s;
}

}  // namespace tg::text
