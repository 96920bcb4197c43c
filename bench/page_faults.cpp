// What a fresh block's first touch costs on this machine: the host
// allocator's choices (keep freed blocks, move their pages into a missed
// block) trade this against peak RSS. Maps --mib MiB, once as 4 KiB pages
// (MADV_NOHUGEPAGE) and once as 2 MiB huge pages (MADV_HUGEPAGE), writes a
// byte of every 4 KiB page, times it, and unmaps; --rounds times, with a
// --idle-seconds pause before the last round. On a virtual machine whose
// kernel reports free memory to its host (free page reporting), a page given
// back and idle for a few seconds comes back unbacked, so a round after the
// pause, like the first, pays the host's faults as well as the guest's.
//
//   bench_page_faults [--mib 64] [--rounds 4] [--idle-seconds 5]
// Output, a line per round and page size (anon_huge_kb: the process's memory
// in huge pages while the block was mapped, from /proc/self/smaps_rollup: the
// advice is only advice, and without it granted a 2m line measures 4 KiB pages):
//   page_faults round=R pages=4k|2m us_per_4k_page=.. us_per_2m=.. anon_huge_kb=.. after_idle=0|1
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>

namespace {

constexpr size_t kPage = 4096, kHugePage = size_t{2} << 20;

// The process's anonymous memory in huge pages, kB (-1: not reported by this kernel).
long anon_huge_kb() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  std::string header;
  std::getline(rollup, header);  // the address range
  for (std::string key; rollup >> key;) {
    long kb = 0;
    if (!(rollup >> kb)) break;
    if (key == "AnonHugePages:") return kb;
    rollup.ignore(1 << 10, '\n');
  }
  return -1;
}

struct Touch {
  double us;
  long huge_kb;
};

// Microseconds to write a byte of each 4 KiB page of a fresh 2 MiB-aligned block of `bytes`.
Touch first_touch(size_t bytes, bool huge) {
  void* mapped = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    std::perror("bench_page_faults: mmap");
    std::exit(1);
  }
  auto* block = reinterpret_cast<volatile char*>((reinterpret_cast<uintptr_t>(mapped) + kHugePage - 1) /
                                                 kHugePage * kHugePage);
  madvise(const_cast<char*>(block), bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  const auto start = std::chrono::steady_clock::now();
  for (size_t offset = 0; offset < bytes; offset += kPage) block[offset] = 1;
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  const long huge_kb = anon_huge_kb();
  munmap(mapped, bytes + kHugePage);
  return {us, huge_kb};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"first touch of fresh memory: microseconds per 4 KiB page and per 2 MiB huge page"};
  int mib = 64, rounds = 4, idle_seconds = 5;
  app.add_option("--mib", mib, "MiB mapped and touched per measurement")->check(CLI::PositiveNumber);
  app.add_option("--rounds", rounds, "rounds of both page sizes")->check(CLI::PositiveNumber);
  app.add_option("--idle-seconds", idle_seconds, "pause before the last round (0: none)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  const size_t bytes = static_cast<size_t>(mib) << 20;
  for (int round = 1; round <= rounds; ++round) {
    const bool after_idle = round == rounds && idle_seconds > 0 && rounds > 1;
    if (after_idle) sleep(static_cast<unsigned>(idle_seconds));
    for (const bool huge : {false, true}) {
      const Touch touch = first_touch(bytes, huge);
      std::printf("page_faults round=%d pages=%s us_per_4k_page=%.2f us_per_2m=%.1f anon_huge_kb=%ld after_idle=%d\n",
                  round, huge ? "2m" : "4k", touch.us / static_cast<double>(bytes / kPage),
                  touch.us / static_cast<double>(bytes / kHugePage), touch.huge_kb, after_idle ? 1 : 0);
    }
  }
}
