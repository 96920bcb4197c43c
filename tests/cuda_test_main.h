#pragma once
// The main of each GPU test program (test_cuda_*.cpp): without a usable GPU it
// prints "SKIP: <reason>" and exits with 77, which meson reports as skipped.
// After the tests it clears the tape, returns the allocator's cache to the
// driver and fails if any device memory is still handed out: a tensor that
// outlived its test is a leak the tests should catch (compute-sanitizer's own
// leak check cannot tell it from the blocks the allocator keeps by design).
// Include after <doctest/doctest.h> with DOCTEST_CONFIG_IMPLEMENT defined.
#include <fmt/format.h>

#include "tapegrad.h"

inline int run_cuda_test_program(int argc, char** argv) {
  if (!tg::cuda::is_available()) {
    fmt::print("SKIP: {}\n", tg::cuda::unavailable_reason());
    return 77;
  }
  doctest::Context context(argc, argv);
  const int status = context.run();
  if (context.shouldExit()) return status;
  tg::Tape::current().clear();
  tg::cuda::synchronize();
  tg::cuda::release_cached();
  const tg::cuda::MemoryStats stats = tg::cuda::memory_stats();
  fmt::print("device memory after the tests: {} bytes in use, {} cached, peak {} bytes, {} cudaMalloc calls\n",
             stats.in_use_bytes, stats.cached_bytes, stats.peak_in_use_bytes, stats.device_allocations);
  if (stats.in_use_bytes != 0) {
    fmt::print("FAILED: {} bytes of device memory are still in use after every test ended (a leaked tensor)\n",
               stats.in_use_bytes);
    return status != 0 ? status : 1;
  }
  return status;
}
