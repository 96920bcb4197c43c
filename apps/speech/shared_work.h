#pragma once
// A list of independent items, worked through by threads started now and by
// whoever calls finish(): each thread claims the next item not yet begun, so
// no thread waits while work is left. Training makes the next batch's
// augmented features this way: one thread beside the step, at background
// priority (it takes what the step's threads leave idle instead of taking
// turns with them), and the step's own thread helping when it needs them.
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tg::speech {

class SharedWork {
 public:
  SharedWork(size_t count, std::function<void(size_t)> item);
  // Stops handing out items and waits for those begun.
  ~SharedWork();
  SharedWork(const SharedWork&) = delete;
  SharedWork& operator=(const SharedWork&) = delete;

  // `threads` more threads claim items; `background`: at the lowest priority
  // (nice 19, Linux), running when the other threads leave a core idle.
  void start_beside(int threads, bool background);
  // Works on the items left on this thread, waits for the others, then
  // rethrows the first exception an item threw (the other items all ran).
  void finish();

 private:
  void run();

  size_t count_;
  std::function<void(size_t)> item_;
  std::atomic<size_t> next_{0};
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

}  // namespace tg::speech
