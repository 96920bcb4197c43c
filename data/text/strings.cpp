#include "data/text/strings.h"

namespace tg::text {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  if (pos == 0) return;  // no hit: s stays as it is
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

}  // namespace tg::text
