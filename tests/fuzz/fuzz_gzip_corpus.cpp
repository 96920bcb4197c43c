// libFuzzer target: the corpus reader (data/text/corpus.h) on gzip streams that
// were cut short or had bytes changed. The input is five control bytes and a
// text; the text is compressed, then the stream is cut at a point the first
// two bytes pick (or kept whole) and one byte after the 10-byte header is
// xor-ed with the fifth byte at a place bytes 3-4 pick. The property: a
// read gives exactly the text's lines or throws tg::Error, never a part of
// the file as if it were all of it.
#include <zlib.h>

#include <optional>

#include "core/services/error.h"
#include "data/text/corpus.h"
#include "fuzz_support.h"

namespace {

std::optional<std::vector<std::string>> read_or_error(const std::string& path) {
  return fuzz::value_or_error([&] { return tg::text::read_lines(path); });
}

// The gzip file zlib writes for `content` (header, deflate data, CRC-32 and length).
std::string gzip_bytes(const fuzz::ScratchFile& scratch, std::string_view content) {
  gzFile f = gzopen(scratch.path().c_str(), "wb");
  if (f == nullptr) fuzz::broken("cannot open the scratch .gz file");
  if (!content.empty() && gzwrite(f, content.data(), static_cast<unsigned>(content.size())) == 0)
    fuzz::broken("cannot write the scratch .gz file");
  gzclose(f);
  std::ifstream in(scratch.path(), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr size_t kHeader = 10;  // magic, method, flags, mtime, xfl, os: zlib writes no optional fields

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  static const fuzz::ScratchFile plain(".txt"), gz(".txt.gz");
  const unsigned cut = data[0] | (data[1] << 8), flip_at = data[2] | (data[3] << 8);
  const uint8_t flip = data[4];
  const std::string_view content = fuzz::bytes(data + 5, size - 5);
  const auto expected = read_or_error(plain.write(content));

  std::string stream = gzip_bytes(gz, content);
  const size_t whole = stream.size();
  // cut: 0 keeps the stream whole; otherwise keep between the magic and one byte short
  if (cut != 0) stream.resize(2 + cut % (whole - 2));
  const bool changed = stream.size() > kHeader && flip != 0;
  if (changed) stream[kHeader + flip_at % (stream.size() - kHeader)] ^= static_cast<char>(flip);
  const auto got = read_or_error(gz.write(stream));

  if (stream.size() < whole && got) fuzz::broken("a truncated gzip stream was read without an error");
  if (got && got != expected) fuzz::broken("a changed gzip stream read as different lines without an error");
  if (stream.size() == whole && !changed && got != expected) fuzz::broken("an intact gzip stream read differently");
  return 0;
}
