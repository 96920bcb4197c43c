#pragma once
// Dynamic batching for a server: the items of requests that
// arrive together (sentences, audio clips) run as one batch on one worker
// thread, and each request is answered as soon as all of its items are done.
//
//   BatchQueue<Sentence, Translation> queue(translate_batch, {.max_batch = 32, .max_wait = 5ms});
//   std::future<std::vector<Translation>> answer =
//       queue.submit(sentences, request.remote_address, request.client_gone);   // from any thread
//
// Each request names its client (a string: an address, a key). The worker
// waits until max_batch items wait or the oldest has waited max_wait, then
// forms a batch of up to max_batch items round-robin over the clients with
// items waiting: one item from each in turn, the turn order kept from batch
// to batch and a newly waiting client joining at its end. Within a client
// requests run first come, first served, a request's items in order (a
// large request may be split over batches). So a client with nothing else
// waiting has its first item in the next batch formed after its request
// arrives whenever at most max_batch clients wait (in general within
// ceil(clients / max_batch) batches), however much other clients queued.
//
// A request may carry a cancellation flag (the server sets it when the
// client has gone). Once it is set, the request's items not yet in a batch
// are dropped, never run, and its future throws Cancelled: the worker
// checks the flags as it forms each batch (after its max_wait, so a flag set
// meanwhile counts), and submit() drops cancelled requests before refusing
// one for want of room. A batch already running is not interrupted (a
// request all of whose items are in batches is answered as usual); a flag
// already set at submit() queues nothing.
//
// submit() never blocks: past max_queue waiting items (all clients), or
// past max_client_queue of one client's, it throws QueueFull (a server
// answers 503). An exception from the batch function fails every request
// with an item in that batch (their items not yet run are dropped). stop()
// runs what is queued (cancelled requests excepted), then ends the worker;
// submit() after it throws.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/services/error.h"

namespace tg::serve {

struct BatchOptions {
  int64_t max_batch = 32;                    // items per batch
  std::chrono::milliseconds max_wait{5};     // how long the oldest item waits for others
  int64_t max_queue = 1024;                  // items waiting at most, all clients together
  int64_t max_client_queue = 0;              // items one client may have waiting; 0: max_queue
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

// What the future of a request holds when its cancellation flag was set before all of its items ran.
class Cancelled : public Error {
 public:
  using Error::Error;
};

template <class In, class Out>
class BatchQueue {
 public:
  // One Out per In, in order.
  using RunBatch = std::function<std::vector<Out>(const std::vector<In>&)>;
  using CancelFlag = std::shared_ptr<std::atomic<bool>>;

  BatchQueue(RunBatch run, BatchOptions options) : run_(std::move(run)), options_(options) {
    if (options_.max_batch < 1 || options_.max_queue < 1 || options_.max_wait.count() < 0 ||
        options_.max_client_queue < 0)
      fail("BatchQueue: max_batch and max_queue must be positive and max_wait and max_client_queue not negative, "
           "got {}, {}, {} ms, {}",
           options_.max_batch, options_.max_queue, options_.max_wait.count(), options_.max_client_queue);
    worker_ = std::thread([this] { work(); });
  }
  ~BatchQueue() { stop(); }
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Queues a request's items (at least one) for `client`; the future holds their results in order, or throws
  // Cancelled once `cancelled` (null: never) is set before they all ran.
  std::future<std::vector<Out>> submit(std::vector<In> items, std::string client, CancelFlag cancelled) {
    if (items.empty()) fail("BatchQueue: a request needs at least one item");
    auto request = std::make_shared<Request>();
    request->items = std::move(items);
    request->results.resize(request->items.size());
    request->cancelled = std::move(cancelled);
    request->arrived = std::chrono::steady_clock::now();
    std::future<std::vector<Out>> answer = request->promise.get_future();
    const int64_t count = static_cast<int64_t>(request->items.size());
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) throw QueueFull("the server is shutting down");
      if (count > options_.max_queue)
        throw RequestTooLarge(fmt::format("this request has {} items; the queue holds at most {} (--max-queue)", count,
                                          options_.max_queue));
      if (count > client_limit())
        throw RequestTooLarge(fmt::format("this request has {} items; one client may have at most {} waiting "
                                          "(--max-client-queue)",
                                          count, client_limit()));
      if (request->is_cancelled()) {
        answer_cancelled(*request);
        return answer;
      }
      auto client_items = [&] {
        const auto found = clients_.find(client);
        return found == clients_.end() ? int64_t{0} : found->second.waiting;
      };
      if (waiting_ + count > options_.max_queue || client_items() + count > client_limit()) drop_unwanted();
      if (waiting_ + count > options_.max_queue)
        throw QueueFull(fmt::format("the queue is full ({} of {} items waiting, this request has {})", waiting_,
                                    options_.max_queue, count));
      if (client_items() + count > client_limit())
        throw QueueFull(fmt::format("this client has {} items waiting, at most {} (--max-client-queue); this "
                                    "request has {}",
                                    client_items(), client_limit(), count));
      Client& queued = clients_[client];
      if (queued.requests.empty()) turns_.push_back(client);  // a client with nothing waiting: last in the turn order
      queued.requests.push_back(request);
      queued.waiting += count;
      waiting_ += count;
    }
    wake_.notify_one();
    return answer;
  }
  // A request of one anonymous client that is never cancelled.
  std::future<std::vector<Out>> submit(std::vector<In> items) {
    return submit(std::move(items), std::string(), nullptr);
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

  // Items waiting (cancelled ones included until the worker or a submit() drops them).
  int64_t waiting() const {
    const std::lock_guard lock(mutex_);
    return waiting_;
  }
  int64_t batches_run() const {
    const std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  // Touched only under mutex_ (the flag excepted: the server sets it from its own thread).
  struct Request {
    std::vector<In> items;
    std::vector<Out> results;
    size_t taken = 0;        // items [0, taken) are in batches, run or running
    size_t done = 0;         // results received
    bool answered = false;   // the promise is set (results, an error, or Cancelled)
    CancelFlag cancelled;
    std::chrono::steady_clock::time_point arrived;
    std::promise<std::vector<Out>> promise;

    bool is_cancelled() const { return cancelled && cancelled->load(std::memory_order_relaxed); }
  };
  struct Client {
    std::deque<std::shared_ptr<Request>> requests;  // each with items not yet taken, first come first
    int64_t waiting = 0;                            // their items not yet taken
  };
  struct Taken {
    std::shared_ptr<Request> request;
    size_t index;
  };

  int64_t client_limit() const {
    return options_.max_client_queue > 0 ? options_.max_client_queue : options_.max_queue;
  }

  // Errors reach handler threads through the futures; the worker must not free one a handler may still be
  // reading (ThreadSanitizer, blind to an exception's reference count, reports it). So every cancelled
  // request gets this one, which lives as long as the program, and a failed batch's error is kept until the
  // next failure or the queue's end (last_batch_error_).
  static const std::exception_ptr& cancelled_error() {
    static const std::exception_ptr error =
        std::make_exception_ptr(Cancelled("the client has gone: its request was dropped before it ran"));
    return error;
  }

  static void answer_cancelled(Request& request) {
    if (request.answered) return;
    request.answered = true;
    request.promise.set_exception(cancelled_error());
  }

  // Drops the items not yet taken of every request cancelled, or already failed by an earlier batch, answering
  // a cancelled one Cancelled; their places are free at once.
  void drop_unwanted() {
    for (auto it = clients_.begin(); it != clients_.end();) {
      Client& client = it->second;
      std::erase_if(client.requests, [&](const std::shared_ptr<Request>& request) {
        if (!request->answered && !request->is_cancelled()) return false;
        const int64_t untaken = static_cast<int64_t>(request->items.size() - request->taken);
        client.waiting -= untaken;
        waiting_ -= untaken;
        answer_cancelled(*request);
        return true;
      });
      if (client.requests.empty()) {
        std::erase(turns_, it->first);
        it = clients_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::chrono::steady_clock::time_point oldest_arrival() const {
    auto oldest = std::chrono::steady_clock::time_point::max();
    for (const auto& [name, client] : clients_) oldest = std::min(oldest, client.requests.front()->arrived);
    return oldest;
  }

  // Up to max_batch items, one from each client in turn; a client keeps its place in the turn order.
  std::vector<Taken> take_batch(std::vector<In>& inputs) {
    std::vector<Taken> batch;
    while (!turns_.empty() && static_cast<int64_t>(batch.size()) < options_.max_batch) {
      std::string name = std::move(turns_.front());
      turns_.pop_front();
      Client& client = clients_.at(name);
      const std::shared_ptr<Request> request = client.requests.front();
      const size_t index = request->taken++;
      inputs.push_back(std::move(request->items[index]));
      batch.push_back({request, index});
      --client.waiting;
      --waiting_;
      if (request->taken == request->items.size()) client.requests.pop_front();
      if (client.requests.empty()) clients_.erase(name);
      else turns_.push_back(std::move(name));
    }
    return batch;
  }

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || waiting_ > 0; });
      drop_unwanted();
      if (waiting_ == 0) {
        if (stopping_) return;
        continue;
      }
      const auto deadline = oldest_arrival() + options_.max_wait;
      wake_.wait_until(lock, deadline, [&] { return stopping_ || waiting_ >= options_.max_batch; });
      drop_unwanted();  // flags set during the wait: those items are not run
      std::vector<In> inputs;
      std::vector<Taken> batch = take_batch(inputs);
      if (batch.empty()) continue;
      ++batches_;
      lock.unlock();
      std::vector<Out> outputs;
      std::exception_ptr error;
      try {
        outputs = run_(inputs);
        if (outputs.size() != inputs.size())
          fail("BatchQueue: the batch function returned {} results for {} items", outputs.size(), inputs.size());
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      hand_out(batch, outputs, error);
      if (error) last_batch_error_ = std::move(error);
    }
  }

  // A batch's results (or its error) to its requests; under the lock, as a submit() may cancel them meanwhile.
  void hand_out(const std::vector<Taken>& batch, std::vector<Out>& outputs, const std::exception_ptr& error) {
    for (size_t k = 0; k < batch.size(); ++k) {
      Request& request = *batch[k].request;
      if (request.answered) continue;  // failed in an earlier batch, or cancelled; its items left are dropped
      if (error) {
        request.answered = true;
        request.promise.set_exception(error);
        continue;
      }
      request.results[batch[k].index] = std::move(outputs[k]);
      if (++request.done == request.items.size()) {
        request.answered = true;
        request.promise.set_value(std::move(request.results));
      }
    }
  }

  RunBatch run_;
  BatchOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Client> clients_;  // those with items not yet taken
  std::deque<std::string> turns_;          // the same clients, whose turn is next first
  int64_t waiting_ = 0;                    // items not yet taken, all clients
  bool stopping_ = false;
  int64_t batches_ = 0;
  std::exception_ptr last_batch_error_;    // see cancelled_error()
  std::thread worker_;
};

}  // namespace tg::serve
