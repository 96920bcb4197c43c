// SharedWork (apps/speech/shared_work.h): every item runs exactly once,
// whatever the threads beside and whether the caller or they take it; an
// item's exception reaches finish() after the other items ran; destroying
// unfinished work stops it and waits, never leaving a thread behind.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "apps/speech/shared_work.h"

using tg::speech::SharedWork;

TEST_CASE("every item runs once, on the caller and the threads beside") {
  for (const int threads : {0, 1, 3})
    for (const bool background : {false, true}) {
      CAPTURE(threads);
      CAPTURE(background);
      std::vector<std::atomic<int>> runs(200);
      SharedWork work(runs.size(), [&](size_t i) { runs[i].fetch_add(1); });
      work.start_beside(threads, background);
      work.finish();
      for (size_t i = 0; i < runs.size(); ++i) REQUIRE(runs[i].load() == 1);
    }
}

TEST_CASE("an empty list finishes at once") {
  SharedWork work(0, [](size_t) { FAIL("no item to run"); });
  work.start_beside(2, true);
  work.finish();
}

TEST_CASE("the first exception reaches finish after every other item ran") {
  std::atomic<int> ran{0};
  SharedWork work(50, [&](size_t i) {
    ran.fetch_add(1);
    if (i == 7 || i == 30) throw std::runtime_error("item " + std::to_string(i));
  });
  work.start_beside(1, false);
  CHECK_THROWS_WITH_AS(work.finish(), doctest::Contains("item"), std::runtime_error);
  CHECK(ran.load() == 50);
}

TEST_CASE("work destroyed unfinished stops handing out items and joins its threads") {
  std::atomic<int> ran{0};
  {
    SharedWork work(1000, [&](size_t) {
      ran.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    work.start_beside(2, true);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int after = ran.load();
  CHECK(after < 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(ran.load() == after);  // nothing ran after the destructor returned
}
