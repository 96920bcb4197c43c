// The kernel thread pool: every index exactly once, nested and concurrent
// calls, resizing, the default from $TG_NUM_THREADS.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/thread_pool.h"

#include <sched.h>
#include <unistd.h>

namespace {
// Counts how often each index of [0, n) was visited by one parallel_for.
std::vector<int> visits(int64_t n, int64_t chunks) {
  std::vector<std::atomic<int>> count(n);
  tg::parallel_for(n, chunks, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) count[i].fetch_add(1);
  });
  std::vector<int> out;
  for (auto& c : count) out.push_back(c.load());
  return out;
}
}  // namespace

TEST_CASE("parallel_for visits every index exactly once") {
  tg::set_pool_threads(2);
  for (int64_t n : {0, 1, 2, 7, 64, 1000, 100003})
    for (int64_t chunks : {1, 2, 3, 8, 1000}) CHECK(visits(n, chunks) == std::vector<int>(n, 1));
}

TEST_CASE("many small jobs in a row all complete") {
  tg::set_pool_threads(2);
  std::atomic<int64_t> total{0};
  for (int job = 0; job < 20000; ++job)
    tg::parallel_for(16, 8, [&](int64_t begin, int64_t end) { total.fetch_add(end - begin); });
  CHECK(total.load() == 20000 * 16);
}

TEST_CASE("a parallel_for inside a body runs serially, and concurrent callers both finish") {
  tg::set_pool_threads(2);
  std::atomic<int64_t> inner{0};
  tg::parallel_for(4, 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      tg::parallel_for(10, 5, [&](int64_t b, int64_t e) { inner.fetch_add(e - b); });
  });
  CHECK(inner.load() == 40);

  std::atomic<int64_t> a{0}, b{0};
  auto hammer = [](std::atomic<int64_t>& sum) {
    for (int job = 0; job < 2000; ++job)
      tg::parallel_for(100, 4, [&](int64_t begin, int64_t end) { sum.fetch_add(end - begin); });
  };
  std::thread t1(hammer, std::ref(a)), t2(hammer, std::ref(b));
  t1.join();
  t2.join();
  CHECK(a.load() == 200000);
  CHECK(b.load() == 200000);
}

TEST_CASE("the pool resizes") {
  tg::set_pool_threads(3);
  CHECK(tg::pool_threads() == 3);
  CHECK(visits(999, 12) == std::vector<int>(999, 1));
  tg::set_pool_threads(1);
  CHECK(tg::pool_threads() == 1);
  CHECK(visits(999, 12) == std::vector<int>(999, 1));
  tg::set_pool_threads(0);  // clamped to the calling thread alone
  CHECK(tg::pool_threads() == 1);
  tg::set_pool_threads(2);
}

TEST_CASE("the pool's size is $TG_NUM_THREADS when set to a whole number, else the cores") {
  // The pool starts with the process, so each setting runs this case again in a child of its own.
  if (const char* want = std::getenv("TG_THREADS_EXPECTED")) {
    CHECK(tg::pool_threads() == std::atoi(want));
    return;
  }
  const std::string self = "/proc/" + std::to_string(getpid()) + "/exe";
  auto run = [&](const std::string& setting, int expected) {
    // Only the setting given: no TG_NUM_THREADS inherited from this run's environment.
    const std::string command = "env -u TG_NUM_THREADS TG_THREADS_EXPECTED=" + std::to_string(expected) + " " +
                                setting + " " + self +
                                " --test-case='the pool*TG_NUM_THREADS*' >/dev/null 2>&1";
    return std::system(command.c_str());
  };
  CHECK(run("TG_NUM_THREADS=3", 3) == 0);
  CHECK(run("TG_NUM_THREADS=1", 1) == 0);
  CHECK(run("TG_NUM_THREADS=1", 2) != 0);  // the child's check can fail
  cpu_set_t allowed;
  REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  for (const char* bad : {"0", "-2", "two", "3x", ""})
    CHECK(run(std::string("TG_NUM_THREADS='") + bad + "'", CPU_COUNT(&allowed)) == 0);
  CHECK(run("taskset -c 0", 1) == 0);  // the affinity mask, not the machine's cores
}
