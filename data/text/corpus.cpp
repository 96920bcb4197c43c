#include "data/text/corpus.h"

#include <zlib.h>

#include <filesystem>
#include <cstring>
#include <memory>

#include "core/services/error.h"
#include "data/text/utf8.h"

namespace tg::text {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

void finish_line(std::string& line, const std::string& path, std::vector<std::string>& lines) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  check_utf8_line(line, path, lines.size() + 1);
  lines.push_back(std::move(line));
  line.clear();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void check_utf8_line(const std::string& line, const std::string& name, size_t line_number) {
  if (const auto offset = find_invalid_utf8(line))
    fail("{}:{}: invalid UTF-8 at byte {} of the line (byte 0x{:02X}); expected UTF-8 text", name,
         line_number, *offset, static_cast<unsigned char>(line[*offset]));
}

std::vector<std::string> read_lines(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("read_lines: file not found: '{}'", path);
  if (std::filesystem::is_directory(path, ec)) fail("read_lines: '{}' is a directory, expected a file", path);
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) fail("read_lines: cannot open '{}'", path);
  gzbuffer(file.get(), 1 << 17);

  std::vector<std::string> lines;
  std::string line;
  std::vector<char> chunk(1 << 16);
  for (;;) {
    // Chunks rather than gzgets, so lines of any length need no special case.
    const int n = gzread(file.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      fail("read_lines: '{}': read error after {} lines: {}", path, lines.size(), message);
    }
    if (n == 0) break;
    const char* begin = chunk.data();
    const char* end = begin + n;
    for (const char* p = begin; p < end;) {
      const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
      const char* stop = found ? static_cast<const char*>(found) : end;
      line.append(p, stop);
      if (!found) break;
      finish_line(line, path, lines);
      p = stop + 1;
    }
  }
  // gzread ends quietly at a cut-off stream: zlib reports it only as Z_BUF_ERROR
  // ("unexpected end of file"), before the trailer's CRC and length are checked.
  int code = 0;
  const char* message = gzerror(file.get(), &code);
  if (code == Z_BUF_ERROR)
    fail("read_lines: '{}': the gzip stream is truncated ({}) after {} complete lines; the file is incomplete",
         path, message, lines.size());
  if (code != Z_OK) fail("read_lines: '{}': corrupt gzip data after {} lines: {}", path, lines.size(), message);
  if (!line.empty()) finish_line(line, path, lines);
  return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  GzFile file(gzopen(path.c_str(), ends_with(path, ".gz") ? "wb" : "wbT"));
  if (!file) fail("write_lines: cannot open '{}' for writing", path);
  for (const std::string& line : lines) {
    if (!line.empty() && gzwrite(file.get(), line.data(), static_cast<unsigned>(line.size())) == 0)
      fail("write_lines: '{}': write failed", path);
    if (gzputc(file.get(), '\n') < 0) fail("write_lines: '{}': write failed", path);
  }
  if (gzclose(file.release()) != Z_OK) fail("write_lines: '{}': closing failed", path);
}

std::vector<std::pair<std::string, std::string>> read_parallel(const std::string& src_path,
                                                               const std::string& tgt_path) {
  std::vector<std::string> src = read_lines(src_path);
  std::vector<std::string> tgt = read_lines(tgt_path);
  if (src.size() != tgt.size())
    fail("read_parallel: line counts differ: '{}' has {} lines, '{}' has {} lines", src_path,
         src.size(), tgt_path, tgt.size());
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) pairs.emplace_back(std::move(src[i]), std::move(tgt[i]));
  return pairs;
}

}  // namespace tg::text
