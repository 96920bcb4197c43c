// The host caching allocator: size classes, reuse, and the bound on what it
// keeps. Its own program, so that the process-wide statistics start clean.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/services/host_allocator.h"
#include "core/tensor/creation.h"

using tg::host_memory_stats;
using tg::host_size_class;

TEST_CASE("size classes: 64-byte multiples to 4 KiB, then eight per power of two") {
  CHECK(host_size_class(0) == 64);
  CHECK(host_size_class(1) == 64);
  CHECK(host_size_class(65) == 128);
  CHECK(host_size_class(4096) == 4096);
  CHECK(host_size_class(4097) == 4096 + 512);
  CHECK(host_size_class(5000) == 5120);
  CHECK(host_size_class(size_t{1} << 20) == size_t{1} << 20);
  CHECK(host_size_class((size_t{1} << 20) + 1) == (size_t{1} << 20) + (size_t{1} << 17));
  std::mt19937_64 rng(1);
  size_t previous = 0;
  for (size_t n = 1; n < (size_t{1} << 24); n += 1 + rng() % (n / 3 + 1)) {
    const size_t c = host_size_class(n);
    CHECK(c >= n);
    CHECK(c % 64 == 0);
    CHECK(c - n <= std::max<size_t>(63, n / 8));  // at most 1/8 waste above 4 KiB
    CHECK(c >= previous);                           // monotone
    previous = c;
  }
}

TEST_CASE("a freed block is reused by the next request of its class, without the system") {
  void* a = tg::host_allocate(100000);
  std::memset(a, 1, 100000);
  tg::host_deallocate(a, 100000);
  const size_t misses = host_memory_stats().system_allocations;
  void* b = tg::host_allocate(100001);  // same class: 13 steps of 8 KiB = 106496 bytes
  CHECK(b == a);
  CHECK(host_memory_stats().system_allocations == misses);
  tg::host_deallocate(b, 100001);
  void* big = tg::host_allocate(3 << 20);  // mapped, on a huge-page (2 MiB) boundary
  CHECK(reinterpret_cast<uintptr_t>(big) % (2 << 20) == 0);
  std::memset(big, 2, 3 << 20);
  tg::host_deallocate(big, 3 << 20);
  for (const size_t exact : {size_t(2) << 20, size_t(24) << 20}) {  // whole huge pages long: aligned too
    void* block = tg::host_allocate(exact);
    CHECK(reinterpret_cast<uintptr_t>(block) % (2 << 20) == 0);
    std::memset(block, 3, exact);
    tg::host_deallocate(block, exact);
  }
}

TEST_CASE("a mapped request that misses its class takes a cached block up to four times larger") {
  tg::host_release_cached();
  const size_t in_use = host_memory_stats().in_use_bytes;
  void* big = tg::host_allocate(10 << 20);
  tg::host_deallocate(big, 10 << 20);
  const size_t misses = host_memory_stats().system_allocations;
  void* smaller = tg::host_allocate(3 << 20);  // 3 MiB: the 10 MiB block, no fresh memory
  CHECK(smaller == big);
  CHECK(host_memory_stats().system_allocations == misses);
  CHECK(host_memory_stats().in_use_bytes == in_use + host_size_class(10 << 20));  // counts the whole block
  tg::host_deallocate(smaller, 3 << 20);
  CHECK(host_memory_stats().in_use_bytes == in_use);
  void* again = tg::host_allocate(10 << 20);  // back in its own class
  CHECK(again == big);
  CHECK(host_memory_stats().system_allocations == misses);
  tg::host_deallocate(again, 10 << 20);
  void* tiny = tg::host_allocate(2 << 20);  // more than four times smaller: a fresh block
  CHECK(tiny != big);
  CHECK(host_memory_stats().system_allocations == misses + 1);
  tg::host_deallocate(tiny, 2 << 20);
  tg::host_release_cached();
}

TEST_CASE("a miss of 2 MiB and more moves cached blocks' pages into the new block, whole huge pages at a time") {
  constexpr size_t kMiB = size_t{1} << 20;
  tg::host_deallocate(tg::host_allocate(48 * kMiB), 48 * kMiB);  // a peak above what follows: nothing trimmed
  tg::host_release_cached();
  auto* old_block = static_cast<unsigned char*>(tg::host_allocate(32 * kMiB));
  for (size_t page = 0; page < 32 * kMiB / 4096; ++page) old_block[page * 4096] = static_cast<unsigned char>(page % 251);
  tg::host_deallocate(old_block, 32 * kMiB);
  const tg::HostMemoryStats before = host_memory_stats();
  // 5 MiB: its class has no block, and 32 MiB is more than four times larger.
  auto* block = static_cast<unsigned char*>(tg::host_allocate(5 * kMiB));
  const tg::HostMemoryStats after = host_memory_stats();
  CHECK(after.system_allocations == before.system_allocations + 1);
  CHECK(after.recycled_bytes - before.recycled_bytes == 4 * kMiB);  // two huge pages; the last MiB fresh
  CHECK(block[4096] == 1);                                           // the old block's second page, moved
  CHECK(block[4 * kMiB] == 0);                                       // a fresh page past them
  CHECK(after.cached_bytes == before.cached_bytes - 4 * kMiB);       // the other 28 MiB: still a class
  std::memset(block, 7, 5 * kMiB);
  auto* rest = static_cast<unsigned char*>(tg::host_allocate(28 * kMiB));
  CHECK(rest == old_block + 4 * kMiB);
  CHECK(rest[4096] == (4 * kMiB / 4096 + 1) % 251);
  CHECK(host_memory_stats().system_allocations == after.system_allocations);
  std::memset(rest, 8, 28 * kMiB);
  CHECK(block[5 * kMiB - 1] == 7);
  tg::host_deallocate(rest, 28 * kMiB);
  tg::host_deallocate(block, 5 * kMiB);
  tg::host_release_cached();
  CHECK(host_memory_stats().cached_bytes == 0);
}

TEST_CASE("training-like churn with changing shapes keeps in-use plus cached within the peak plus 1/32") {
  tg::host_release_cached();
  std::mt19937 rng(7);
  const size_t trimmed_before = host_memory_stats().trimmed_bytes;
  for (int step = 0; step < 60; ++step) {
    // A "step": a batch of length T allocates T activations of T-dependent
    // sizes, then frees them all. T changes every step, as bucketed batches do.
    const size_t T = 10 + rng() % 30;
    std::vector<tg::Tensor> saved;
    for (size_t t = 0; t < T; ++t) saved.push_back(tg::zeros({static_cast<int64_t>(T), 64, 512}));
    saved.clear();
    const tg::HostMemoryStats s = host_memory_stats();
    CHECK(s.in_use_bytes + s.cached_bytes <= s.peak_in_use_bytes + s.peak_in_use_bytes / 32);
  }
  const tg::HostMemoryStats s = host_memory_stats();
  CHECK(s.trimmed_bytes > trimmed_before);  // shapes changed, so some blocks had to go back
  tg::host_release_cached();
  CHECK(host_memory_stats().cached_bytes == 0);
}
