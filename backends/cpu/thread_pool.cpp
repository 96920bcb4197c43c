#include "backends/cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TG_CPU_RELAX() _mm_pause()
#else
#define TG_CPU_RELAX() std::this_thread::yield()
#endif

namespace tg {

namespace {

// Spins a worker makes before sleeping; each is a pause (~40 cycles or more).
constexpr int kSpinsBeforeSleep = 20000;

struct Job {
  const std::function<void(int64_t, int64_t)>* body;
  int64_t n, chunk_size, chunks;
  std::atomic<int64_t> next_chunk{0};
  std::atomic<int64_t> chunks_done{0};

  void run_chunks() {
    for (int64_t c; (c = next_chunk.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      (*body)(c * chunk_size, std::min(n, (c + 1) * chunk_size));
      chunks_done.fetch_add(1, std::memory_order_release);
    }
  }
};

thread_local bool inside_parallel_body = false;

class ThreadPool {
 public:
  explicit ThreadPool(int threads) { start(threads); }
  ~ThreadPool() { stop(); }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    if (threads == this->threads()) return;
    stop();
    start(threads);
  }

  void run(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t)>& body) {
    chunks = std::min(chunks, n);
    bool expected = false;
    if (chunks <= 1 || workers_.empty() || inside_parallel_body ||
        !busy_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      if (n > 0) body(0, n);
      return;
    }
    Job job;
    job.body = &body;
    job.n = n;
    job.chunk_size = (n + chunks - 1) / chunks;
    job.chunks = (n + job.chunk_size - 1) / job.chunk_size;
    {
      std::lock_guard lock(mutex_);
      current_.store(&job);
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();

    inside_parallel_body = true;
    job.run_chunks();
    inside_parallel_body = false;
    // No worker can find the job after this; wait for the chunks in flight and
    // for workers that may still hold its address (seq_cst: a worker counts
    // itself in before it reads current_, so it either is waited for or reads null).
    current_.store(nullptr);
    while (job.chunks_done.load(std::memory_order_acquire) < job.chunks || workers_inside_.load() > 0)
      TG_CPU_RELAX();
    busy_.store(false, std::memory_order_release);
  }

 private:
  void start(int threads) {
    stopping_ = false;
    // The generation is read here, not in the new thread: a thread that starts
    // late must still see a stop() issued before it ran.
    const uint64_t generation = generation_.load();
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, generation] { work(generation); });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  void work(uint64_t seen) {
    inside_parallel_body = true;  // a body's own parallel_for runs serially
    for (;;) {
      // Spin a little: the next kernel usually follows within microseconds.
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && spins++ < kSpinsBeforeSleep) TG_CPU_RELAX();
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_acq_rel);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        sleepers_.fetch_sub(1, std::memory_order_acq_rel);
      }
      seen = generation_.load(std::memory_order_acquire);
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      workers_inside_.fetch_add(1);
      if (Job* job = current_.load()) job->run_chunks();  // null: the job finished without us
      workers_inside_.fetch_sub(1);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<Job*> current_{nullptr};
  std::atomic<int> sleepers_{0};
  std::atomic<int> workers_inside_{0};  // workers between finding a job and leaving it
  std::atomic<bool> busy_{false};
  bool stopping_ = false;
};

// $TG_NUM_THREADS (as OMP_NUM_THREADS for PyTorch), else the cores this
// process may run on (its affinity mask: taskset, a container's cpuset).
int default_threads() {
  if (const char* value = std::getenv("TG_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(value, &end, 10);
    if (end != value && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
    std::fprintf(stderr, "tapegrad: TG_NUM_THREADS must be a whole number from 1 to 1024, got '%s'; using the cores\n",
                 value);
  }
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 0) return CPU_COUNT(&allowed);
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

ThreadPool& pool() {
  static auto* instance = new ThreadPool(default_threads());  // never destroyed: kernels may run during exit
  return *instance;
}

}  // namespace

void parallel_for(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t)>& body) {
  pool().run(n, chunks, body);
}

void set_pool_threads(int n) { pool().resize(std::max(1, n)); }
int pool_threads() { return pool().threads(); }

}  // namespace tg
