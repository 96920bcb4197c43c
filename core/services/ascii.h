#pragma once
// ASCII case folding: A-Z to a-z and every other byte as it is, whatever the
// locale, so that UTF-8 text passes through untouched. For protocol names
// (HTTP header names, schemes, codings) and BLEU's -lc.
#include <string>
#include <string_view>

namespace tg {

inline std::string ascii_lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace tg
