// serve/batch_queue.h: answers in order, a queue full for now (QueueFull:
// the servers' 503 with Retry-After) against a request that can never fit
// (RequestTooLarge: 413).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "serve/batch_queue.h"

using tg::serve::BatchQueue;

TEST_CASE("BatchQueue: a full queue throws QueueFull, a request larger than the queue RequestTooLarge") {
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  std::atomic<int> batches = 0;
  BatchQueue<int, int> queue(
      [&](const std::vector<int>& xs) {
        ++batches;
        released.wait();
        std::vector<int> out;
        for (const int x : xs) out.push_back(2 * x);
        return out;
      },
      {.max_batch = 1, .max_wait = std::chrono::milliseconds(0), .max_queue = 1});
  CHECK_THROWS_WITH_AS(queue.submit({1, 2}), "this request has 2 items; the queue holds at most 1 (--max-queue)",
                       tg::serve::RequestTooLarge);
  std::future<std::vector<int>> first = queue.submit({1});
  while (batches == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the worker holds item 1
  std::future<std::vector<int>> second = queue.submit({2});                          // the one waiting place
  CHECK_THROWS_WITH_AS(queue.submit({3}), doctest::Contains("the queue is full (1 of 1 items waiting"),
                       tg::serve::QueueFull);
  release.set_value();
  CHECK(first.get() == std::vector<int>{2});
  CHECK(second.get() == std::vector<int>{4});
  CHECK(queue.submit({7}).get() == std::vector<int>{14});  // room again
}
