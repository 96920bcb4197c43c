#pragma once
// The threads host kernels share. A parallel_for cuts its range into chunks
// that the calling thread and the workers claim one at a time from a shared
// counter. If the operating system has parked a worker (another process holds
// its core), the caller simply takes the chunks the worker never claimed, so
// a busy machine slows a kernel down by at most one chunk instead of stalling
// it at a barrier, as OpenMP's static schedule with spinning waits did.
//
// Workers spin briefly after a job (kernels come in quick succession during a
// training step) and then sleep on a condition variable.
#include <cstdint>
#include <functional>

namespace tg {

// Runs body(begin, end) over disjoint ranges covering [0, n), at most
// `chunks` of them, on this thread and the pool's workers; returns when all
// are done. body must not throw. A call made while another thread's call is
// running, or from inside a body, runs serially on the calling thread.
void parallel_for(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t)>& body);

// Threads that run a parallel_for, the caller included (at least 1).
void set_pool_threads(int n);
int pool_threads();

}  // namespace tg
