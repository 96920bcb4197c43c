#pragma once
// The page `translate serve` answers at GET /: a text box, the translation as
// it comes back, and the attention of the answer drawn as a heatmap (source
// tokens across, target tokens down). One self-contained HTML document (no
// files from disk, nothing from the internet); it calls POST /translate.
// The page is apps/translate/serve/translate_page.html, embedded at build
// time (scripts/embed_text.py). It asks /languages, /frontend/settings and
// /models, then translates with LibreTranslate's /translate. Element ids the
// browser test (tests/check_serve_browser.py) reads: source, translate,
// output, status, count, alternatives, source-language, copy, heatmap
// (data-drawn="yes" once drawn).
#include <string>

namespace tg::translate {

const std::string& translate_page();

}  // namespace tg::translate
