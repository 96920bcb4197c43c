#pragma once
// Writing a whole text file (a CSV, an SVG drawing, decoded sentences) so
// that a reader never sees half of it: the text goes to "<path>.tmp", which
// is then renamed over <path>. A failed or interrupted write leaves <path>
// as it was.
#include <string>
#include <string_view>

namespace tg {

// Writes `text` to `path`; throws tg::Error naming the path and the reason
// when it cannot (no such directory, no permission, a full disk).
void write_text_file(const std::string& path, std::string_view text);

}  // namespace tg
