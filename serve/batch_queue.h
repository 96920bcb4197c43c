#pragma once
// Dynamic batching for a server: the items of requests that
// arrive together (sentences, audio clips) run as one batch on one worker
// thread, and each request is answered as soon as all of its items are done.
//
//   BatchQueue<Sentence, Translation> queue(translate_batch, {.max_batch = 32, .max_wait = 5ms});
//   std::future<std::vector<Translation>> answer = queue.submit(sentences);   // from any thread
//
// The worker takes the oldest waiting item and waits until max_batch items
// wait or the oldest has waited max_wait, then runs up to max_batch of them,
// oldest first (a large request may be split over batches; one request's
// items keep their order). submit() never blocks: past max_queue waiting
// items it throws QueueFull (a server answers 503). An exception from the
// batch function fails every request with an item in that batch. stop()
// runs what is queued, then ends the worker; submit() after it throws.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tg::serve {

struct BatchOptions {
  int64_t max_batch = 32;                    // items per batch
  std::chrono::milliseconds max_wait{5};     // how long the oldest item waits for others
  int64_t max_queue = 1024;                  // items waiting at most
};

// submit() with the queue full (or stopped).
class QueueFull : public Error {
 public:
  using Error::Error;
};

// submit() of more items than the queue ever holds: no retry can succeed (a server answers 413).
class RequestTooLarge : public Error {
 public:
  using Error::Error;
};

template <class In, class Out>
class BatchQueue {
 public:
  // One Out per In, in order.
  using RunBatch = std::function<std::vector<Out>(const std::vector<In>&)>;

  BatchQueue(RunBatch run, BatchOptions options) : run_(std::move(run)), options_(options) {
    if (options_.max_batch < 1 || options_.max_queue < 1 || options_.max_wait.count() < 0)
      fail("BatchQueue: max_batch and max_queue must be positive and max_wait not negative, got {}, {}, {} ms",
           options_.max_batch, options_.max_queue, options_.max_wait.count());
    worker_ = std::thread([this] { work(); });
  }
  ~BatchQueue() { stop(); }
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Queues a request's items (at least one); the future holds their results in order.
  std::future<std::vector<Out>> submit(std::vector<In> items) {
    if (items.empty()) fail("BatchQueue: a request needs at least one item");
    auto request = std::make_shared<Request>();
    request->items = std::move(items);
    request->results.resize(request->items.size());
    std::future<std::vector<Out>> answer = request->promise.get_future();
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) throw QueueFull("the server is shutting down");
      const int64_t count = static_cast<int64_t>(request->items.size());
      if (count > options_.max_queue)
        throw RequestTooLarge(fmt::format("this request has {} items; the queue holds at most {} (--max-queue)", count,
                                          options_.max_queue));
      if (static_cast<int64_t>(waiting_.size()) + count > options_.max_queue)
        throw QueueFull(fmt::format("the queue is full ({} of {} items waiting, this request has {})", waiting_.size(),
                                    options_.max_queue, count));
      const auto now = std::chrono::steady_clock::now();
      for (size_t i = 0; i < request->items.size(); ++i) waiting_.push_back({request, i, now});
    }
    wake_.notify_one();
    return answer;
  }

  // Runs what is queued, then ends the worker. Idempotent.
  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

  int64_t waiting() const {
    const std::lock_guard lock(mutex_);
    return static_cast<int64_t>(waiting_.size());
  }
  int64_t batches_run() const {
    const std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  struct Request {
    std::vector<In> items;
    std::vector<Out> results;
    size_t done = 0;
    bool failed = false;
    std::promise<std::vector<Out>> promise;
  };
  struct Item {
    std::shared_ptr<Request> request;
    size_t index;
    std::chrono::steady_clock::time_point arrived;
  };

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopping, nothing left
      const auto deadline = waiting_.front().arrived + options_.max_wait;
      wake_.wait_until(lock, deadline, [&] {
        return stopping_ || static_cast<int64_t>(waiting_.size()) >= options_.max_batch;
      });
      std::vector<Item> batch;
      while (!waiting_.empty() && static_cast<int64_t>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
      }
      ++batches_;
      lock.unlock();
      run(batch);
      lock.lock();
    }
  }

  // Runs one batch and hands out its results; without the lock (requests are
  // touched only by this thread once queued).
  void run(const std::vector<Item>& batch) {
    std::vector<In> inputs;
    inputs.reserve(batch.size());
    for (const Item& item : batch) inputs.push_back(item.request->items[item.index]);
    std::vector<Out> outputs;
    std::exception_ptr error;
    try {
      outputs = run_(inputs);
      if (outputs.size() != inputs.size())
        fail("BatchQueue: the batch function returned {} results for {} items", outputs.size(), inputs.size());
    } catch (...) {
      error = std::current_exception();
    }
    for (size_t k = 0; k < batch.size(); ++k) {
      Request& request = *batch[k].request;
      if (error && !request.failed) {
        request.failed = true;
        request.promise.set_exception(error);
      } else if (!error) {
        request.results[batch[k].index] = std::move(outputs[k]);
      }
      if (++request.done == request.items.size() && !request.failed) request.promise.set_value(std::move(request.results));
    }
  }

  RunBatch run_;
  BatchOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> waiting_;
  bool stopping_ = false;
  int64_t batches_ = 0;
  std::thread worker_;
};

}  // namespace tg::serve
