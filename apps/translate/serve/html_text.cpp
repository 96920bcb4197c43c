#include "apps/translate/serve/html_text.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>

#include "apps/translate/serve/html_entities.h"
#include "core/services/ascii.h"
#include "data/text/utf8.h"

namespace tg::translate {

namespace {

// One code point as UTF-8 (data/text/utf8.h); NUL, surrogates and values past U+10FFFF become U+FFFD.
void append_utf8(std::string& out, uint32_t code) {
  if (code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) code = 0xFFFD;
  out += text::encode_utf8(std::u32string(1, static_cast<char32_t>(code)));
}

// Character references: HTML's named ones (the WHATWG table, html_entities.h) and numeric ones, each
// ended by ';'; any other '&' stays as it is.
std::string decode_references(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t semicolon = text[i] == '&' ? text.find(';', i) : std::string::npos;
    if (semicolon == std::string::npos || semicolon - i > kLongestReferenceName + 1) {
      out += text[i];
      continue;
    }
    const std::string name = text.substr(i + 1, semicolon - i - 1);
    bool done = false;
    if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string digits = name.substr(hex ? 2 : 1);
      if (!digits.empty() && digits.size() <= 7 &&
          std::all_of(digits.begin(), digits.end(), [&](char c) { return hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c)); })) {
        append_utf8(out, static_cast<uint32_t>(std::stoul(digits, nullptr, hex ? 16 : 10)));
        done = true;
      }
    } else if (const std::string_view value = html_named_reference(name); !value.empty()) {
      out += value;
      done = true;
    }
    if (done) i = semicolon;
    else out += text[i];
  }
  return out;
}

// The end of the tag that opens at `at` ('<'): past its '>', quotes respected; npos when it never closes.
size_t tag_end(const std::string& html, size_t at) {
  char quote = 0;
  for (size_t i = at + 1; i < html.size(); ++i) {
    if (quote) {
      if (html[i] == quote) quote = 0;
    } else if (html[i] == '"' || html[i] == '\'') {
      quote = html[i];
    } else if (html[i] == '>') {
      return i + 1;
    }
  }
  return std::string::npos;
}

}  // namespace

std::vector<HtmlPiece> split_html(const std::string& html) {
  std::vector<HtmlPiece> pieces;
  auto add = [&](bool is_text, const std::string& content) {  // next to a piece of its kind, joined to it
    if (content.empty()) return;
    const std::string decoded = is_text ? decode_references(content) : content;
    if (!pieces.empty() && pieces.back().is_text == is_text) pieces.back().content += decoded;
    else pieces.push_back({is_text, decoded});
  };
  size_t at = 0;
  while (at < html.size()) {
    const size_t open = html.find('<', at);
    // '<' that opens no tag ("a < b") is text.
    const bool tag = open != std::string::npos && open + 1 < html.size() &&
                     (std::isalpha(static_cast<unsigned char>(html[open + 1])) || html[open + 1] == '/' ||
                      html[open + 1] == '!' || html[open + 1] == '?');
    if (!tag) {
      const size_t stop = open == std::string::npos ? html.size() : open + 1;
      add(true, html.substr(at, stop - at));
      at = stop;
      continue;
    }
    add(true, html.substr(at, open - at));
    size_t end;
    if (html.compare(open, 4, "<!--") == 0) {
      end = html.find("-->", open + 4);
      end = end == std::string::npos ? html.size() : end + 3;
    } else {
      end = tag_end(html, open);
      if (end == std::string::npos) end = html.size();
      // <script> and <style> hold no text to translate: markup up to their closing tag.
      std::string name;
      for (size_t i = open + 1; i < end && std::isalpha(static_cast<unsigned char>(html[i])); ++i) name += html[i];
      name = ascii_lowercase(name);
      if (name == "script" || name == "style") {
        const size_t close = ascii_lowercase(html.substr(end)).find("</" + name);
        end = close == std::string::npos ? html.size() : std::min(html.size(), tag_end(html, end + close));
      }
    }
    add(false, html.substr(open, end - open));
    at = end;
  }
  return pieces;
}

std::string join_html(const std::vector<HtmlPiece>& pieces) {
  std::string out;
  for (const HtmlPiece& p : pieces) {
    if (!p.is_text) {
      out += p.content;
      continue;
    }
    for (const char c : p.content) {
      if (c == '&') out += "&amp;";
      else if (c == '<') out += "&lt;";
      else if (c == '>') out += "&gt;";
      else out += c;
    }
  }
  return out;
}

}  // namespace tg::translate
