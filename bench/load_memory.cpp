// Peak memory of loading one safetensors file, against the file's size.
//
//   bench_load_memory FILE [--whole-file]
//
// Default: tg::load_safetensors, which reads each tensor's bytes straight into
// its storage. --whole-file: the file read into one buffer first and parsed
// from there (parse_safetensors), the copy a loader without the direct read
// makes; run both in separate processes, since the peak is per process.
// Prints one line:
//   load_memory mode=direct file_mb=15.0 rss_before_mb=.. peak_rss_mb=.. load_peak_mb=.. load_peak_over_file=1.0x
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fmt/core.h>
#include <fstream>
#include <iterator>
#include <string>

#include "tapegrad.h"

namespace {

// Resident set now (VmRSS) and its peak so far (ru_maxrss), in MiB.
double rss_now_mb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      status >> kib;
      return kib / 1024.0;
    }
    std::getline(status, key);
  }
  return 0.0;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

size_t tensor_bytes(const tg::SafetensorsContents& contents) {
  size_t bytes = 0;
  for (const auto& [name, tensor] : contents.tensors)
    bytes += static_cast<size_t>(tensor.numel()) * tg::dtype_size(tensor.dtype());
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Peak memory of loading a safetensors file, against its size"};
  std::string path;
  bool whole_file = false;
  app.add_option("file", path, "a safetensors file")->required()->check(CLI::ExistingFile);
  app.add_flag("--whole-file", whole_file, "read the whole file into one buffer, then parse it (the copying way)");
  CLI11_PARSE(app, argc, argv);

  const double file_mb = static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
  const double before = rss_now_mb();
  tg::SafetensorsContents contents;
  if (whole_file) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    contents = tg::parse_safetensors(bytes, path);
  } else {
    contents = tg::load_safetensors(path);
  }
  const double peak = peak_rss_mb();
  const double load_peak = peak - before;
  fmt::print("load_memory mode={} file_mb={:.1f} tensors_mb={:.1f} rss_before_mb={:.1f} peak_rss_mb={:.1f} "
             "load_peak_mb={:.1f} load_peak_over_file={:.2f}x\n",
             whole_file ? "whole-file" : "direct", file_mb,
             static_cast<double>(tensor_bytes(contents)) / (1024.0 * 1024.0), before, peak, load_peak,
             load_peak / file_mb);
  return 0;
}
