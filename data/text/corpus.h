#pragma once
// Reading and writing line-per-sentence text files, plain or gzip-compressed.
// Every line read is checked to be UTF-8; errors name the file, the 1-based
// line and the byte offset within it.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace tg::text {

// The lines of `path` without their "\n" (and without a "\r" before it). A file
// ending in "\n" has no empty last line. ".gz" files are inflated; any file
// that is not gzip is read as it is (zlib reads both), so the suffix is a hint.
std::vector<std::string> read_lines(const std::string& path);

// Writes one line per element, each followed by "\n"; gzip-compressed when the
// path ends in ".gz".
void write_lines(const std::string& path, const std::vector<std::string>& lines);

// Throws "<name>:<line_number>: invalid UTF-8 at byte B of the line (byte 0xXX);
// expected UTF-8 text" when `line` is not valid UTF-8: the check read_lines
// applies to every line, for text read from elsewhere (standard input).
void check_utf8_line(const std::string& line, const std::string& name, size_t line_number);

// Line i of the source file with line i of the target file. Throws when the
// line counts differ, naming both files and both counts.
std::vector<std::pair<std::string, std::string>> read_parallel(const std::string& src_path,
                                                               const std::string& tgt_path);

}  // namespace tg::text
