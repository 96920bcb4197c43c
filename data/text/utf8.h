#pragma once
// UTF-8 decoding and encoding, and the few Unicode character classes the
// tokenizers need (letters, digits, lower case, white space) for the scripts
// Multi30k uses: Latin (ASCII, Latin-1 Supplement, Latin Extended-A/B), Greek
// and Cyrillic. Code points elsewhere count as letters from U+3000 upward
// (CJK) and as symbols below it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tg::text {

// Byte offset of the first malformed sequence (bad lead byte, truncated or
// overlong sequence, surrogate, above U+10FFFF), or nullopt when `s` is valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);

// Code points of a valid UTF-8 string (check with find_invalid_utf8 first;
// malformed bytes decode as U+FFFD).
std::u32string decode_utf8(std::string_view s);
std::string encode_utf8(std::u32string_view s);

bool is_letter(char32_t c);      // Perl \p{IsAlpha}
bool is_number(char32_t c);      // Perl \p{IsN}: digits and ², ³, ¹, ¼, ½, ¾
bool is_alnum(char32_t c);       // Perl \p{IsAlnum}: letters and decimal digits
bool is_lower(char32_t c);       // Perl \p{IsLower}
bool is_space(char32_t c);       // Perl \s on Unicode strings (includes U+00A0)
bool is_python_space(char32_t c);  // Python str.split(): Perl's set plus U+001C..U+001F

// Lower case of one code point: ASCII, Latin-1 Supplement, Latin Extended-A,
// ẞ (U+1E9E), Greek and Cyrillic capitals. Other code points map to themselves.
char32_t to_lower(char32_t c);
// The whole string lower-cased code point by code point (İ becomes "i̇", as Perl's lc does).
std::string lowercase(std::string_view utf8);

}  // namespace tg::text
