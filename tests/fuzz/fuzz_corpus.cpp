// libFuzzer target: the corpus reader (data/text/corpus.h) on arbitrary file
// contents, plain and gzip-compressed. Every input reads or throws tg::Error;
// what reads is valid UTF-8 without line breaks, decodes and encodes back to
// itself, reads the same from the gzip-compressed file, and survives
// write_lines -> read_lines.
#include <zlib.h>

#include <optional>

#include "core/services/error.h"
#include "data/text/corpus.h"
#include "data/text/utf8.h"
#include "fuzz_support.h"

namespace {

std::optional<std::vector<std::string>> read_or_error(const std::string& path) {
  return fuzz::value_or_error([&] { return tg::text::read_lines(path); });
}

void write_gzip(const std::string& path, std::string_view content) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) fuzz::broken("cannot open the scratch .gz file");
  if (!content.empty() && gzwrite(f, content.data(), static_cast<unsigned>(content.size())) == 0)
    fuzz::broken("cannot write the scratch .gz file");
  gzclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::ScratchFile plain(".txt"), gz(".txt.gz"), round_trip(".out.gz");
  const std::string_view content = fuzz::bytes(data, size);
  const auto lines = read_or_error(plain.write(content));

  // The same bytes compressed read the same (unless they are gzip already:
  // then the plain read inflates them, the compressed one gives them back).
  const bool gzip_magic = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  write_gzip(gz.path(), content);
  const auto inflated = read_or_error(gz.path());
  if (!gzip_magic && inflated != lines) fuzz::broken("plain and gzip reads differ");
  if (!lines) return 0;

  bool ends_in_cr = false;
  for (const std::string& line : *lines) {
    if (tg::text::find_invalid_utf8(line)) fuzz::broken("a line read is not UTF-8");
    if (line.find('\n') != std::string::npos) fuzz::broken("a line read holds a line break");
    if (tg::text::encode_utf8(tg::text::decode_utf8(line)) != line) fuzz::broken("UTF-8 decode/encode changed a line");
    ends_in_cr = ends_in_cr || (!line.empty() && line.back() == '\r');
  }
  // A line ending in "\r" loses it when read back ("\r\n" is a line break).
  if (!ends_in_cr) {
    tg::text::write_lines(round_trip.path(), *lines);
    if (read_or_error(round_trip.path()) != lines) fuzz::broken("write_lines -> read_lines changed the lines");
  }
  return 0;
}
