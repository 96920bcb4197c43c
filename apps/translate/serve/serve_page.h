#pragma once
// The page `translate serve` answers at GET /: a text box, the translation as
// it comes back, and the attention of the answer drawn as a heatmap (source
// tokens across, target tokens down). One self-contained HTML document (no
// files from disk, nothing from the internet); it calls POST /translate.
#include <string>

namespace tg::translate {

const std::string& translate_page();

}  // namespace tg::translate
