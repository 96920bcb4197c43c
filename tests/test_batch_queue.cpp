// serve/batch_queue.h: answers in order, a queue full for now (QueueFull:
// the servers' 503 with Retry-After) against a request that can never fit
// (RequestTooLarge: 413), batches formed round-robin over clients (a client
// with one item is not held behind another's many), a client's requests in
// order, cancelled requests dropped before they run, stop() draining.
//
// The verdicts do not depend on timing: a held batch function keeps the
// worker inside a first batch while the test queues what the next batches
// will be formed from, so their contents are known.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serve/batch_queue.h"

using tg::serve::BatchQueue;
using tg::serve::Cancelled;

namespace {

using Strings = std::vector<std::string>;
using Flag = std::shared_ptr<std::atomic<bool>>;

Flag new_flag() { return std::make_shared<std::atomic<bool>>(false); }

// A batch function that records each batch it is given and answers each item with itself. Held (at first),
// it waits inside each batch until release(); `on_batch` runs first, on the worker's thread.
class HeldBatches {
 public:
  Strings operator()(const Strings& items) {
    if (on_batch) on_batch(items);
    std::unique_lock lock(mutex_);
    seen_.push_back(items);
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held_; });
    return items;
  }
  // Waits until the worker is inside its `count`th batch (or past it).
  void wait_for_batches(size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return seen_.size() >= count; });
  }
  void release() {
    const std::lock_guard lock(mutex_);
    held_ = false;
    changed_.notify_all();
  }
  std::vector<Strings> seen() {
    const std::lock_guard lock(mutex_);
    return seen_;
  }
  // The batch (0-based) that held `item`, or -1.
  int batch_of(const std::string& item) {
    const std::lock_guard lock(mutex_);
    for (size_t b = 0; b < seen_.size(); ++b)
      for (const std::string& x : seen_[b])
        if (x == item) return static_cast<int>(b);
    return -1;
  }
  std::function<void(const Strings&)> on_batch;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = true;
  std::vector<Strings> seen_;
};

// A queue over HeldBatches. Released before the queue stops, so that a failed check cannot leave the worker held.
struct HeldQueue {
  explicit HeldQueue(tg::serve::BatchOptions options) : queue(std::ref(batches), options) {}
  ~HeldQueue() { batches.release(); }
  HeldBatches batches;
  BatchQueue<std::string, std::string> queue;
};

// "A0", "A1", ... for client `client`'s items `from` to `to` - 1.
Strings items(const std::string& client, int from, int to) {
  Strings out;
  for (int i = from; i < to; ++i) out.push_back(client + std::to_string(i));
  return out;
}

bool is_ready(const std::future<Strings>& answer) {
  return answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace

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
  std::future<std::vector<int>> second = queue.submit({2}, "another client", nullptr);  // the one waiting place
  CHECK_THROWS_WITH_AS(queue.submit({3}, "a third client", nullptr),
                       doctest::Contains("the queue is full (1 of 1 items waiting"), tg::serve::QueueFull);
  release.set_value();
  CHECK(first.get() == std::vector<int>{2});
  CHECK(second.get() == std::vector<int>{4});
  CHECK(queue.submit({7}).get() == std::vector<int>{14});  // room again
}

TEST_CASE("BatchQueue: one client's many items do not hold another client's one item behind them") {
  HeldQueue held({.max_batch = 4, .max_wait = std::chrono::milliseconds(0)});
  HeldBatches& batches = held.batches;
  BatchQueue<std::string, std::string>& queue = held.queue;
  std::future<Strings> first = queue.submit({"X0"}, "x", nullptr);
  batches.wait_for_batches(1);  // the worker holds X0's batch
  std::future<Strings> heavy = queue.submit(items("A", 0, 20), "a", nullptr);
  std::future<Strings> heavy_too = queue.submit(items("B", 0, 20), "b", nullptr);
  std::future<Strings> light = queue.submit({"C0"}, "c", nullptr);
  batches.release();
  CHECK(light.get() == Strings{"C0"});
  CHECK(heavy.get() == items("A", 0, 20));
  CHECK(heavy_too.get() == items("B", 0, 20));
  CHECK(first.get() == Strings{"X0"});
  const std::vector<Strings> seen = batches.seen();
  REQUIRE(seen.size() >= 2);
  CHECK(seen[0] == Strings{"X0"});
  // The next batch formed: one item from each client waiting, in the order they came, then round again.
  CHECK(seen[1] == Strings{"A0", "B0", "C0", "A1"});
  CHECK(seen[2] == Strings{"B1", "A2", "B2", "A3"});
  CHECK(seen.size() == 12);  // 41 items, 4 a batch
}

TEST_CASE("BatchQueue: a client's requests run in the order they came, each request's items in order") {
  HeldQueue held({.max_batch = 3, .max_wait = std::chrono::milliseconds(0)});
  HeldBatches& batches = held.batches;
  BatchQueue<std::string, std::string>& queue = held.queue;
  std::future<Strings> first = queue.submit({"X0"}, "x", nullptr);
  batches.wait_for_batches(1);
  std::future<Strings> a_first = queue.submit(items("A", 0, 4), "a", nullptr);
  std::future<Strings> b_only = queue.submit(items("B", 0, 2), "b", nullptr);
  std::future<Strings> a_second = queue.submit(items("A", 4, 7), "a", nullptr);
  std::future<Strings> x_second = queue.submit({"X1"}, "x", nullptr);  // "x" has nothing waiting: it joins after b
  batches.release();
  CHECK(a_first.get() == items("A", 0, 4));
  CHECK(a_second.get() == items("A", 4, 7));
  CHECK(b_only.get() == items("B", 0, 2));
  CHECK(x_second.get() == Strings{"X1"});
  CHECK(first.get() == Strings{"X0"});
  Strings a_order, everything;
  for (const Strings& batch : batches.seen())
    for (const std::string& item : batch) {
      everything.push_back(item);
      if (item[0] == 'A') a_order.push_back(item);
    }
  CHECK(a_order == items("A", 0, 7));
  CHECK(everything == Strings{"X0", "A0", "B0", "X1", "A1", "B1", "A2", "A3", "A4", "A5", "A6"});
}

TEST_CASE("BatchQueue: a cancelled request's items never run, its future throws Cancelled, the others run") {
  HeldQueue held({.max_batch = 8, .max_wait = std::chrono::milliseconds(0)});
  HeldBatches& batches = held.batches;
  BatchQueue<std::string, std::string>& queue = held.queue;
  std::future<Strings> first = queue.submit({"X0"}, "x", nullptr);
  batches.wait_for_batches(1);
  const Flag a_gone = new_flag(), c_gone = new_flag();
  std::future<Strings> a = queue.submit(items("A", 0, 3), "a", a_gone);
  std::future<Strings> b = queue.submit(items("B", 0, 2), "b", nullptr);
  std::future<Strings> c = queue.submit({"C0"}, "c", c_gone);
  CHECK(queue.waiting() == 6);
  *a_gone = true;  // while its handler would wait in get()
  batches.release();
  CHECK_THROWS_AS(a.get(), Cancelled);
  CHECK(b.get() == items("B", 0, 2));
  CHECK(c.get() == Strings{"C0"});
  CHECK(first.get() == Strings{"X0"});
  for (const std::string& item : items("A", 0, 3)) CHECK(batches.batch_of(item) == -1);
  CHECK(batches.batch_of("B1") == 1);
  CHECK(queue.waiting() == 0);
}

TEST_CASE("BatchQueue: cancelled items free their places at once; a request cancelled before it is queued takes none") {
  HeldQueue held({.max_batch = 8, .max_wait = std::chrono::milliseconds(0), .max_queue = 4});
  HeldBatches& batches = held.batches;
  BatchQueue<std::string, std::string>& queue = held.queue;
  std::future<Strings> first = queue.submit({"X0"}, "x", nullptr);
  batches.wait_for_batches(1);  // the worker is busy: only submit() can drop what is cancelled
  const Flag a_gone = new_flag();
  std::future<Strings> a = queue.submit(items("A", 0, 3), "a", a_gone);
  CHECK_THROWS_AS(queue.submit(items("B", 0, 3), "b", nullptr), tg::serve::QueueFull);
  *a_gone = true;
  std::future<Strings> b = queue.submit(items("B", 0, 3), "b", nullptr);  // a's three places were freed
  REQUIRE(is_ready(a));  // answered by that submit(), not by the busy worker
  CHECK_THROWS_AS(a.get(), Cancelled);
  CHECK(queue.waiting() == 3);
  const Flag gone_already = new_flag();
  *gone_already = true;
  std::future<Strings> late = queue.submit({"L0"}, "l", gone_already);
  REQUIRE(is_ready(late));
  CHECK_THROWS_AS(late.get(), Cancelled);
  CHECK(queue.waiting() == 3);
  batches.release();
  CHECK(b.get() == items("B", 0, 3));
  CHECK(first.get() == Strings{"X0"});
  CHECK(batches.batch_of("A0") == -1);
  CHECK(batches.batch_of("L0") == -1);
}

TEST_CASE("BatchQueue: a running batch is not interrupted; a request cancelled midway loses its items not yet run") {
  const Flag a_gone = new_flag(), b_gone = new_flag();
  HeldQueue held({.max_batch = 3, .max_wait = std::chrono::milliseconds(0)});
  HeldBatches& batches = held.batches;
  BatchQueue<std::string, std::string>& queue = held.queue;
  batches.on_batch = [&](const Strings& batch) {  // on the worker's thread, as the batch starts
    if (batch.front() == "A0") {
      *a_gone = true;  // A0 and A1 are running; A2 and A3 are not
      *b_gone = true;  // B's one item is running
    }
  };
  std::future<Strings> first = queue.submit({"X0"}, "x", nullptr);
  batches.wait_for_batches(1);
  std::future<Strings> a = queue.submit(items("A", 0, 4), "a", a_gone);
  std::future<Strings> b = queue.submit({"B0"}, "b", b_gone);
  batches.release();
  CHECK_THROWS_AS(a.get(), Cancelled);
  CHECK(b.get() == Strings{"B0"});  // its batch ran to its end: the answer stands
  CHECK(first.get() == Strings{"X0"});
  queue.stop();
  CHECK(batches.seen() == std::vector<Strings>{{"X0"}, {"A0", "B0", "A1"}});
}

TEST_CASE("BatchQueue: a failed batch fails its requests, and their items not yet run are dropped") {
  std::vector<std::vector<int>> seen;
  std::mutex seen_mutex;
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  BatchQueue<int, int> queue(
      [&](const std::vector<int>& xs) {
        {
          const std::lock_guard lock(seen_mutex);
          seen.push_back(xs);
        }
        released.wait();
        if (xs.front() == 10) throw tg::Error("no 10s");
        return xs;
      },
      {.max_batch = 2, .max_wait = std::chrono::milliseconds(0)});
  std::future<std::vector<int>> first = queue.submit({0}, "x", nullptr);
  const auto batch_started = [&] {
    const std::lock_guard lock(seen_mutex);
    return !seen.empty();
  };
  while (!batch_started()) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the worker holds {0}
  std::future<std::vector<int>> failing = queue.submit({10, 11, 12, 13}, "a", nullptr);
  release.set_value();
  CHECK_THROWS_WITH_AS(failing.get(), "no 10s", tg::Error);
  CHECK(first.get() == std::vector<int>{0});
  queue.stop();
  CHECK(seen == std::vector<std::vector<int>>{{0}, {10, 11}});
}

TEST_CASE("BatchQueue: max_client_queue caps one client's waiting items; max_queue stays the total") {
  HeldQueue held({.max_batch = 8, .max_wait = std::chrono::milliseconds(0), .max_queue = 5, .max_client_queue = 2});
  HeldBatches& batches = held.batches;
  BatchQueue<std::string, std::string>& queue = held.queue;
  CHECK_THROWS_WITH_AS(queue.submit(items("A", 0, 3), "a", nullptr),
                       "this request has 3 items; one client may have at most 2 waiting (--max-client-queue)",
                       tg::serve::RequestTooLarge);
  std::future<Strings> first = queue.submit({"X0"}, "x", nullptr);
  batches.wait_for_batches(1);
  std::future<Strings> a = queue.submit(items("A", 0, 2), "a", nullptr);
  CHECK_THROWS_WITH_AS(queue.submit({"A2"}, "a", nullptr),
                       "this client has 2 items waiting, at most 2 (--max-client-queue); this request has 1",
                       tg::serve::QueueFull);
  std::future<Strings> b = queue.submit(items("B", 0, 2), "b", nullptr);
  std::future<Strings> c = queue.submit({"C0"}, "c", nullptr);
  CHECK_THROWS_WITH_AS(queue.submit({"D0"}, "d", nullptr), doctest::Contains("the queue is full (5 of 5 items waiting"),
                       tg::serve::QueueFull);
  batches.release();
  CHECK(a.get() == items("A", 0, 2));
  CHECK(b.get() == items("B", 0, 2));
  CHECK(c.get() == Strings{"C0"});
  CHECK(first.get() == Strings{"X0"});
}

TEST_CASE("BatchQueue: stop() runs what is queued (not what was cancelled), then refuses") {
  HeldQueue held({.max_batch = 2, .max_wait = std::chrono::milliseconds(0)});
  HeldBatches& batches = held.batches;
  BatchQueue<std::string, std::string>& queue = held.queue;
  std::future<Strings> first = queue.submit({"X0"}, "x", nullptr);
  batches.wait_for_batches(1);
  const Flag b_gone = new_flag();
  std::future<Strings> a = queue.submit(items("A", 0, 5), "a", nullptr);
  std::future<Strings> b = queue.submit(items("B", 0, 2), "b", b_gone);
  *b_gone = true;
  std::future<void> stopped = std::async(std::launch::async, [&] { queue.stop(); });
  batches.release();
  stopped.get();
  CHECK(a.get() == items("A", 0, 5));
  CHECK_THROWS_AS(b.get(), Cancelled);
  CHECK(first.get() == Strings{"X0"});
  CHECK(batches.batch_of("B0") == -1);
  CHECK(queue.waiting() == 0);
  CHECK_THROWS_WITH_AS(queue.submit({"Y0"}, "y", nullptr), "the server is shutting down", tg::serve::QueueFull);
}
