#include "seq2seq_plan.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "core/services/error.h"

namespace tg::bench {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_for_writing(const std::string& path) {
  File file(std::fopen(path.c_str(), "w"));
  if (!file) fail("bench_seq2seq: cannot write the plan file '{}'", path);
  return file;
}

// One line of ids.
void write_ids(std::FILE* out, const std::vector<int64_t>& ids) {
  std::string line;
  for (const int64_t v : ids) {
    if (!line.empty()) line += ' ';
    line += fmt::to_string(v);
  }
  fmt::print(out, "{}\n", line);
}

void write_header(std::FILE* out, const char* magic, const PlanConfig& config, size_t batches) {
  fmt::print(out, "{} 1\nconfig", magic);
  for (const auto& [key, value] : config) fmt::print(out, " {}={}", key, value);
  fmt::print(out, "\nbatches {}\n", batches);
}

void finish(File file, const std::string& path) {
  if (std::ferror(file.get()) != 0 || std::fclose(file.release()) != 0)
    fail("bench_seq2seq: writing the plan file '{}' failed", path);
}

}  // namespace

void write_train_plan(const std::string& path, const PlanConfig& config, const std::vector<text::Batch>& batches) {
  File file = open_for_writing(path);
  write_header(file.get(), "seq2seq-plan", config, batches.size());
  for (const text::Batch& b : batches) {
    fmt::print(file.get(), "batch {} {} {}\n", b.src.size(0), b.src.size(1), b.tgt_in.size(0));
    for (const Tensor* t : {&b.src, &b.src_lengths, &b.tgt_in, &b.tgt_out})
      write_ids(file.get(), t->to_vector<int64_t>());  // row-major
  }
  finish(std::move(file), path);
}

void write_decode_plan(const std::string& path, const PlanConfig& config, const std::vector<text::Batch>& batches) {
  File file = open_for_writing(path);
  write_header(file.get(), "seq2seq-decode-plan", config, batches.size());
  for (const text::Batch& b : batches) {
    fmt::print(file.get(), "batch {} {}\n", b.src.size(0), b.src.size(1));
    write_ids(file.get(), b.src.to_vector<int64_t>());
    write_ids(file.get(), b.src_lengths.to_vector<int64_t>());
    write_ids(file.get(), b.indices);
  }
  finish(std::move(file), path);
}

}  // namespace tg::bench
