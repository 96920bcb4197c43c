#include "data/text/utf8.h"

namespace tg::text {

namespace {

// Length of the sequence a lead byte starts, 0 for a byte that cannot lead.
int sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // continuation byte, overlong C0/C1, or F5..FF
}

// Decodes the sequence at s[i]; returns its length, 0 when malformed.
int decode_one(std::string_view s, size_t i, char32_t& out) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const int n = sequence_length(lead);
  if (n == 0 || i + n > s.size()) return 0;
  if (n == 1) {
    out = lead;
    return 1;
  }
  char32_t c = lead & (0x7F >> n);
  for (int k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  const char32_t min_for_length[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min_for_length[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  out = c;
  return n;
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // fast path for ASCII
      ++i;
      continue;
    }
    char32_t c;
    const int n = decode_one(s, i, c);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char32_t c;
    const int n = decode_one(s, i, c);
    if (n == 0) {
      out.push_back(0xFFFD);
      ++i;
    } else {
      out.push_back(c);
      i += n;
    }
  }
  return out;
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool is_letter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c < 0x100) return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
  if (c <= 0x2AF) return true;                                    // Latin Extended-A/B, IPA
  if (c >= 0x370 && c <= 0x3FF) return c != 0x37E && c != 0x387;  // Greek (not its ; and ·)
  if (c >= 0x400 && c <= 0x52F) return !(c >= 0x482 && c <= 0x489);  // Cyrillic (not its signs)
  if (c >= 0x1E00 && c <= 0x1FFF) return true;                    // Latin/Greek Extended Additional
  if (c >= 0x3040) return !(c >= 0xE000 && c <= 0xF8FF) && !(c >= 0xFE30 && c <= 0xFE4F) &&
                          !(c >= 0xFF00 && c <= 0xFF20);          // CJK and beyond, bar private use, forms
  return false;
}

bool is_number(char32_t c) {
  return (c >= '0' && c <= '9') || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE);
}

bool is_alnum(char32_t c) { return is_letter(c) || (c >= '0' && c <= '9'); }

char32_t to_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c < 0x100) return (c >= 0xC0 && c <= 0xDE && c != 0xD7) ? c + 32 : c;
  if (c < 0x180) {  // Latin Extended-A: upper/lower pairs, with a few odd ones out
    if (c == 0x130) return 'i';  // İ: lowercase() appends U+0307 itself
    if (c == 0x178) return 0xFF;  // Ÿ -> ÿ
    if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;  // ı ĸ ŉ ſ have no upper pair
    const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper) return (c % 2 == 1) ? c + 1 : c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  if (c == 0x1E9E) return 0xDF;  // ẞ -> ß
  if (c >= 0x1E00 && c <= 0x1EFF) return (c % 2 == 0 && c <= 0x1E95) || (c >= 0x1EA0 && c % 2 == 0) ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Greek capitals
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic А..Я
  if (c >= 0x400 && c <= 0x40F) return c + 80;                // Cyrillic Ѐ..Џ
  return c;
}

bool is_lower(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  if (c == 0xAA || c == 0xBA || c == 0xB5 || c == 0xDF) return true;
  if (!is_letter(c) || c >= 0x3040) return false;
  // A letter is lower case when it is not some capital's lower case.
  if (c >= 0xE0 && c <= 0xFF) return c != 0xF7;
  if (c < 0x180) return c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F || (to_lower(c) == c);
  if (c >= 0x3B1 && c <= 0x3C9) return true;
  if (c >= 0x430 && c <= 0x45F) return true;
  return to_lower(c) == c && c >= 0x1E00 && c <= 0x1EFF;
}

bool is_space(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_python_space(char32_t c) { return is_space(c) || (c >= 0x1C && c <= 0x1F); }

std::string lowercase(std::string_view utf8) {
  std::u32string text = decode_utf8(utf8);
  std::u32string out;
  out.reserve(text.size());
  for (const char32_t c : text) {
    out.push_back(to_lower(c));
    if (c == 0x130) out.push_back(0x307);  // İ -> i + combining dot above
  }
  return encode_utf8(out);
}

}  // namespace tg::text
