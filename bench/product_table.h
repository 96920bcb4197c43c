#pragma once
// The cpu backend's product census (backends/cpu/product_census.h) as lines
// a person reads: each product shape with its kernel, calls, share of the
// products' time and GFLOP/s, most time first.
//
//   product mode=train kernel=own shape=(1920x512)@(512x1536) layout=NT batch=1 calls=120 seconds=0.412 share=18.3% gflops=201.5
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>

#include "backends/cpu/product_census.h"
#include "core/services/error.h"

namespace tg::bench {

// Appends every shape since the last reset (at most `rows`, then the rest summed) to the file at `path` and
// resets the census.
inline void append_product_table(const std::string& path, const std::string& mode, size_t rows = 25) {
  std::FILE* out = std::fopen(path.c_str(), "a");
  if (out == nullptr) fail("--products: cannot open {} to append to: {}", path, std::strerror(errno));
  const std::vector<cpu::ProductShape> shapes = cpu::product_census();
  double total = 0;
  for (const cpu::ProductShape& s : shapes) total += s.seconds;
  double rest_seconds = 0, rest_flops = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const cpu::ProductShape& s = shapes[i];
    if (i >= rows) {
      rest_seconds += s.seconds;
      rest_flops += s.flops();
      continue;
    }
    fmt::print(out,
               "product mode={} kernel={} dtype={} shape=({}x{})@({}x{}) layout={}{} batch={} calls={} seconds={:.4f} "
               "share={:.1f}% gflops={:.1f}\n",
               mode, s.kernel, s.dtype, s.m, s.k, s.k, s.n, s.a_layout, s.b_layout, s.batch, s.calls, s.seconds,
               total > 0 ? 100 * s.seconds / total : 0.0, s.gflops());
  }
  if (rest_seconds > 0)
    fmt::print(out, "product mode={} shapes={} (the rest) seconds={:.4f} share={:.1f}% gflops={:.1f}\n", mode,
               shapes.size() - rows, rest_seconds, 100 * rest_seconds / total, 1e-9 * rest_flops / rest_seconds);
  fmt::print(out, "product mode={} total_seconds={:.4f} shapes={}\n", mode, total, shapes.size());
  std::fclose(out);
  cpu::reset_product_census();
}

}  // namespace tg::bench
