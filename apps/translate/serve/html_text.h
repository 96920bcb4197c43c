#pragma once
// LibreTranslate's "format": "html": the text between the tags is
// translated, the markup kept as it was. An HTML text is cut into pieces,
// markup (tags, comments, and whatever <script> and <style> hold) and text
// (character references decoded); the text pieces are translated and
// written back escaped. Not a validating parser: what is not a tag is text.
#include <string>
#include <vector>

namespace tg::translate {

struct HtmlPiece {
  bool is_text = false;
  std::string content;  // markup as it was; text decoded (&amp; -> &)
};

std::vector<HtmlPiece> split_html(const std::string& html);

// The pieces joined back, text escaped (& < >).
std::string join_html(const std::vector<HtmlPiece>& pieces);

}  // namespace tg::translate
