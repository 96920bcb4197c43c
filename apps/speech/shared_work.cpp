#include "apps/speech/shared_work.h"

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace tg::speech {

SharedWork::SharedWork(size_t count, std::function<void(size_t)> item) : count_(count), item_(std::move(item)) {}

SharedWork::~SharedWork() {
  next_ = count_;
  for (std::thread& t : threads_) t.join();
}

void SharedWork::start_beside(int threads, bool background) {
  for (int t = 0; t < threads; ++t)
    threads_.emplace_back([this, background] {
#if defined(__linux__)
      // A thread's nice value is its own on Linux; if refused, it simply runs at the usual priority.
      if (background) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
#endif
      run();
    });
}

void SharedWork::run() {
  for (size_t i; (i = next_.fetch_add(1)) < count_;) try {
      item_(i);
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
}

void SharedWork::finish() {
  run();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (error_) std::rethrow_exception(error_);
}

}  // namespace tg::speech
